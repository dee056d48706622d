import { defineConfig } from 'tsup';

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/fixture-mcp-server.ts',
    'src/conformance-everything-server.ts',
    'src/conformance-everything-server-2026.ts',
  ],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
