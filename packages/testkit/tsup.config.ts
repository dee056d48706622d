import { defineConfig } from 'tsup';
import { INTERNAL } from '../../scripts/tsup.internal.js';

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/fixture-mcp-server.ts',
    'src/conformance-everything-server.ts',
    'src/conformance-everything-server-2026.ts',
  ],
  format: ['esm'],
  noExternal: [INTERNAL],
  dts: { resolve: [INTERNAL] },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
