import { defineConfig } from 'tsup';
import { packageBuild } from '../../scripts/tsup.internal.js';

export default defineConfig(packageBuild(['src/index.ts', 'src/cli.ts']));
