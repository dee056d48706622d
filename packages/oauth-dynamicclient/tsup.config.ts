import { defineConfig } from 'tsup';
import { INTERNAL, INTERNAL_DTS } from '../../scripts/tsup.internal.js';

export default defineConfig({
  entry: ['src/index.ts', 'src/redis.ts', 'src/express.ts', 'src/hono.ts'],
  format: ['esm'],
  noExternal: [INTERNAL],
  dts: INTERNAL_DTS,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
