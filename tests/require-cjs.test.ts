import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './gateway-helpers.js';
import { PUBLISHED } from './published.js';

const run = promisify(execFile);
const published = PUBLISHED;

/** Export names of `spec` as Node sees them through `require` (flags: as on Node 20 before 20.19) or `import`. */
async function exportNames(how: 'require' | 'import', spec: string, flags: string[] = []): Promise<string[]> {
  const load =
    how === 'require'
      ? `Promise.resolve(require(${JSON.stringify(spec)}))`
      : `import(${JSON.stringify(spec)})`;
  const { stdout } = await run(
    process.execPath,
    [
      ...flags,
      '-e',
      `${load}.then((m) => console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort())))`,
    ],
    { cwd: `${repoRoot}/tests` },
  );
  return JSON.parse(stdout) as string[];
}

describe.each(published)('require(@mcp-gateway/%s)', (dir) => {
  it('loads without require(esm) (Node 20 before 20.19) and exports what import() exports', async () => {
    const spec = `@mcp-gateway/${dir}`;
    const cjs = await exportNames('require', spec, ['--no-experimental-require-module']);
    const esm = await exportNames('import', spec);
    expect(esm.length).toBeGreaterThan(0);
    expect(cjs).toEqual(esm);
  });
});

describe('CommonJS TypeScript consumers', () => {
  it('a .cts file that requires every package (and ./redis) typechecks against the .d.cts files, lib check on', async () => {
    // Inside node_modules: resolves our packages like a consumer would, and git and linters skip it.
    const cache = path.join(repoRoot, 'tests', 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(path.join(cache, 'cts-probe-'));
    try {
      const lines = [...published, 'oauth-dynamicclient/redis'].map(
        (p, i) => `import p${i} = require('@mcp-gateway/${p}');\nexport const e${i}: object = p${i};`,
      );
      lines.push(
        "import redis = require('@mcp-gateway/oauth-dynamicclient/redis');",
        "import as = require('@mcp-gateway/oauth-dynamicclient');",
        "export const store: as.Store = new redis.RedisStore({ url: 'redis://127.0.0.1:6379' });",
      );
      writeFileSync(path.join(dir, 'probe.cts'), lines.join('\n') + '\n');
      const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
      const args = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16'];
      const result = await run(
        process.execPath,
        [tsc, ...args, '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'false', 'probe.cts'],
        { cwd: dir },
      ).then(
        () => '',
        (e: { stdout: string }) => e.stdout,
      );
      // Only our declarations are under test (the MCP SDK's own CJS types have an error of their own).
      const ours = result
        .split('\n')
        .filter((l) => /error TS/.test(l) && !l.includes('node_modules/@modelcontextprotocol/'));
      expect(ours).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
