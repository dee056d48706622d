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
import { copyFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { defineConfig } from 'tsup';

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

export default defineConfig({
  entry: Object.fromEntries(entries.map((name) => [name, `src/${name}.ts`])),
  format: ['cjs'],
  noExternal: bundled,
  shims: true,
  sourcemap: true,
  clean: false,
  dts: false,
  target: 'node20',
  esbuildOptions(options) {
    options.supported = { ...options.supported, 'dynamic-import': false };
  },
  onSuccess: async () => {
    // Same declarations, read as CommonJS by TypeScript under `require`.
    for (const name of entries) copyFileSync(`dist/${name}.d.ts`, `dist/${name}.d.cts`);
  },
});
