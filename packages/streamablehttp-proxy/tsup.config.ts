import { defineConfig } from 'tsup';
import { INTERNAL } from '../../scripts/tsup.internal.js';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  noExternal: [INTERNAL],
  dts: { resolve: [INTERNAL] },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
