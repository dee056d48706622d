import { defineConfig } from 'tsup';
import { packageBuild } from '../../scripts/tsup.internal.js';

export default defineConfig(
  packageBuild(
    { index: 'src/index.ts', cli: 'src/cli.ts', 'demo-server': 'src/builtin/demo-server.ts' },
    { index: 'src/index.ts' },
  ),
);
