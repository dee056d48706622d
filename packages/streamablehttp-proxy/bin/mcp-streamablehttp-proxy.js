#!/usr/bin/env node
// Committed (not built) so that `npm ci` can link this bin before the first build.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'mcp-streamablehttp-proxy: dist/cli.js is missing: run npm run build (in the repository root) first\n',
  );
  process.exit(1);
}
await import(cli.href);
