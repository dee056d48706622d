import { defineConfig } from 'tsup';
import { packageBuild } from '../../scripts/tsup.internal.js';

// html-worker is the HTML conversion worker thread, loaded by file URL next to the built module
// (src/content/convert-pool.ts): an entry of its own, without declarations.
export default defineConfig(
  packageBuild(
    { index: 'src/index.ts', cli: 'src/cli.ts', 'html-worker': 'src/content/html-worker.ts' },
    { index: 'src/index.ts', cli: 'src/cli.ts' },
  ),
);
