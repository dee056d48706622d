/**
 * The CommonJS build of a package's library entry, for `require('@mcp-gateway/…')`.
 *
 * Run from a package folder after its ESM build (`tsup && tsup --config ../../scripts/tsup.cjs.ts`):
 * for every entry its package.json `exports` maps `require` to (`./dist/<name>.cjs`), writes
 * `dist/<name>.cjs` (+ map) from `src/<name>.ts`, and `dist/<name>.d.cts` next to the ESM files.
 *
 * Node 20 before 20.19 cannot `require()` an ES module, so every runtime dependency that ships
 * only ESM (jose, oauth4webapi, open, …) is bundled into `index.cjs`; dependencies with a
 * CommonJS entry stay external. Dynamic `import()` becomes `require()`, so a CommonJS
 * consumer loads one copy of each package (one `instanceof` world).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { defineConfig } from 'tsup';
import { INTERNAL } from './tsup.internal.js';

const pkgFile = path.resolve('package.json');
const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
  dependencies?: Record<string, string>;
  exports?: Record<string, { require?: { default?: string } } | string>;
};

/**
 * True when `require(dep)` fails on a Node without require(esm) because `dep`, or something
 * it requires, is an ES module (linkedom's CommonJS build requires the ESM-only css-select).
 */
function esmOnly(dep: string): boolean {
  const probe = spawnSync(
    process.execPath,
    ['--no-experimental-require-module', '-e', `require(${JSON.stringify(dep)})`],
    { cwd: path.dirname(pkgFile), encoding: 'utf8' },
  );
  // Any other failure (the MCP SDK declares a main entry it does not ship; we use its subpaths,
  // which have CommonJS builds) leaves the dependency external.
  return /ERR_REQUIRE_ESM|ERR_PACKAGE_PATH_NOT_EXPORTED/.test(probe.stderr);
}

const bundled = Object.keys(pkg.dependencies ?? {}).filter(
  (d) => !d.startsWith('@mcp-gateway/') && esmOnly(d),
);

const entries = Object.values(pkg.exports ?? {}).flatMap((target) => {
  const m = typeof target === 'object' ? /^\.\/dist\/(.+)\.cjs$/.exec(target.require?.default ?? '') : null;
  return m ? [m[1]!] : [];
});
if (!entries.length) throw new Error(`${pkgFile}: no exports entry maps require to ./dist/<name>.cjs`);

/**
 * The ESM declarations, as TypeScript must read them under `require`: relative imports point at
 * the `.d.cts` twins, and imports from the ESM-only packages bundled above become `import type`
 * with `resolution-mode: import` (a CommonJS file may not `require` an ES module, but may use
 * its types; TypeScript 5.3 or newer reads this).
 */
function asCommonJsDeclarations(dts: string): string {
  const esm = bundled.map((d) => d.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
  let out = dts.replace(/(from\s+['"]\.{1,2}\/[^'"]+)\.js(['"])/g, '$1.cjs$2');
  if (esm)
    out = out.replace(
      new RegExp(`^import (?!type )(.*from\\s+['"](?:${esm})['"]);`, 'gm'),
      "import type $1 with { 'resolution-mode': 'import' };",
    );
  return out;
}

export default defineConfig({
  entry: Object.fromEntries(entries.map((name) => [name, `src/${name}.ts`])),
  format: ['cjs'],
  noExternal: [...bundled, INTERNAL],
  shims: true,
  sourcemap: true,
  clean: false,
  dts: false,
  target: 'node20',
  esbuildOptions(options) {
    options.supported = { ...options.supported, 'dynamic-import': false };
  },
  onSuccess: async () => {
    for (const file of readdirSync('dist').filter((f) => f.endsWith('.d.ts')))
      writeFileSync(
        `dist/${file.replace(/\.d\.ts$/, '.d.cts')}`,
        asCommonJsDeclarations(readFileSync(`dist/${file}`, 'utf8')),
      );
  },
});
