import { defineConfig } from 'tsup';
import { INTERNAL, INTERNAL_DTS } from '../../scripts/tsup.internal.js';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  noExternal: [INTERNAL],
  dts: INTERNAL_DTS,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
