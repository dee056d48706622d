import { defineConfig } from 'tsup';
import { INTERNAL, INTERNAL_DTS } from '../../scripts/tsup.internal.js';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', 'demo-server': 'src/builtin/demo-server.ts' },
  format: ['esm'],
  noExternal: [INTERNAL],
  dts: { entry: { index: 'src/index.ts' }, ...INTERNAL_DTS },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
