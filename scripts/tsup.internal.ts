/**
 * `@mcp-gateway/internal` is never published: every package's tsup build inlines what it imports
 * from it, code (`noExternal`) and declarations (`INTERNAL_DTS`), so a published package imports
 * nothing of another (tests/internal-inlined.test.ts checks the built files).
 */
import path from 'node:path';
import type { Options } from 'tsup';

export const INTERNAL = /^@mcp-gateway\/internal(\/|$)/;

/**
 * The `dts` compiler options that inline internal's declarations. tsup's own `dts.resolve` cannot
 * follow the package's `exports` map (`./*` → `./src/*.ts`) and would leave the import in the
 * built `.d.ts`; a `paths` entry lets the declaration bundler resolve it to the source and inline it
 * (with the `.ts` extension: NodeNext ES module resolution does not add one to a mapped path).
 * tsup runs in a package folder (`packages/<name>`), and bundles this file into its config (so
 * `import.meta` names the config, not this file): the path is taken from the working directory.
 */
export const INTERNAL_DTS = {
  compilerOptions: {
    paths: {
      '@mcp-gateway/internal/*': [path.resolve(process.cwd(), '../internal/src/*.ts')],
    },
  },
};

/**
 * The ESM build every published package makes: `entry` to `dist/` for Node 20 with source maps,
 * internal inlined, declarations for `dtsEntry` (default: every entry).
 */
export function packageBuild(
  entry: string[] | Record<string, string>,
  dtsEntry?: string[] | Record<string, string>,
): Options {
  return {
    entry,
    format: ['esm'],
    noExternal: [INTERNAL],
    dts: dtsEntry ? { entry: dtsEntry, ...INTERNAL_DTS } : INTERNAL_DTS,
    sourcemap: true,
    clean: true,
    target: 'node20',
  };
}
