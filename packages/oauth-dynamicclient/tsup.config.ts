import { defineConfig } from 'tsup';
import { INTERNAL } from '../../scripts/tsup.internal.js';

export default defineConfig({
  entry: ['src/index.ts', 'src/redis.ts', 'src/express.ts', 'src/hono.ts'],
  format: ['esm'],
  noExternal: [INTERNAL],
  dts: { resolve: [INTERNAL] },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
