/**
 * What a user gets from npm: each published package packed (`npm pack`), installed from the
 * tarballs alone into an empty folder with `--omit=dev` (third-party dependencies come from the
 * registry or its cache), then used from there: every bin, `require`, and the gateway serving
 * one authorized MCP call.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { killAllSpawned, spawnCli, waitForUrl } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot, tempDir } from './gateway-helpers.js';
import { CLIS, PUBLISHED } from './published.js';

const run = promisify(execFile);
// The nested npm must not inherit the settings of an `npm test` that may have started us.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
let app: string;

beforeAll(async () => {
  const dir = tempDir('packed-install-');
  const tarballs = path.join(dir, 'tarballs');
  app = path.join(dir, 'app');
  mkdirSync(tarballs);
  mkdirSync(app);
  const workspaces = PUBLISHED.flatMap((d) => ['--workspace', `packages/${d}`]);
  await run('npm', ['pack', ...workspaces, '--pack-destination', tarballs], { cwd: repoRoot, env });
  writeFileSync(path.join(app, 'package.json'), '{ "name": "packed-install", "private": true }\n');
  const files = readdirSync(tarballs).map((f) => path.join(tarballs, f));
  expect(files).toHaveLength(PUBLISHED.length);
  await run(
    'npm',
    ['install', ...files, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
    { cwd: app, env, maxBuffer: 16 * 1024 * 1024 },
  );
}, 120_000);

afterAll(async () => {
  await killAllSpawned();
});

const bin = (name: string) => path.join(app, 'node_modules', '.bin', name);
const installedVersion = (dir: string) =>
  (
    JSON.parse(readFileSync(path.join(app, 'node_modules', '@mcp-gateway', dir, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

describe('installed from the packed tarballs', () => {
  it('brings no dev-only packages and no DOM implementation (turndown is bundled)', () => {
    const has = (name: string) => existsSync(path.join(app, 'node_modules', name));
    expect(has('@mcp-gateway/testkit')).toBe(false);
    expect(has('turndown')).toBe(false);
    expect(has('@mixmark-io/domino')).toBe(false);
  });

  it.each(CLIS)('$bin --version answers from the installed package', async ({ dir, bin: name }) => {
    const { stdout } = await run(bin(name), ['--version'], { cwd: app });
    expect(stdout).toBe(`${installedVersion(dir)}\n`);
  });

  it.each(PUBLISHED)(
    '@mcp-gateway/%s loads with require (without require(esm)) and with import',
    async (dir) => {
      const spec = JSON.stringify(`@mcp-gateway/${dir}`);
      const code = `const c = require(${spec}); import(${spec}).then((e) => { if (Object.keys(c).length !== Object.keys(e).length - ('default' in e ? 1 : 0)) process.exit(3); })`;
      await run(process.execPath, ['--no-experimental-require-module', '-e', code], { cwd: app });
    },
  );

  it('mcp-gateway serves the fetch service: a token from `mcp-gateway token` lists its tools', async () => {
    const port = await freePort();
    const gwEnv = { MCP_GATEWAY__LISTEN__PORT: String(port), MCP_GATEWAY__LOGGING__LEVEL: 'warn' };
    const gw = spawnCli(bin('mcp-gateway'), [], { cwd: app, env: gwEnv });
    await gw.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, { stream: 'stderr', timeoutMs: 30_000 });
    const url = `http://127.0.0.1:${port}`;
    await waitForUrl(`${url}/healthz`);
    expect(gw.stderr).toContain(`npx -y @mcp-gateway/streamablehttp-client login --url ${url}/fetch/mcp`);

    const tok = await run(bin('mcp-gateway'), ['token', '--user', 'admin', '--service', 'fetch'], {
      cwd: app,
      env: { ...process.env, ...gwEnv },
    });
    const headers: Record<string, string> = {
      authorization: `Bearer ${tok.stdout.trim()}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    /** One JSON-RPC request; the answer may come as JSON or as one SSE event. */
    const rpc = async (id: number, method: string, params: object) => {
      const res = await fetch(`${url}/fetch/mcp`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const sid = res.headers.get('mcp-session-id');
      if (sid) headers['mcp-session-id'] = sid;
      const json = res.headers.get('content-type')?.includes('text/event-stream')
        ? /^data: (.*)$/m.exec(text)![1]!
        : text;
      return JSON.parse(json) as { result?: { tools?: { name: string }[] } };
    };
    await rpc(1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'packed-install', version: '1' },
    });
    const list = await rpc(2, 'tools/list', {});
    expect(list.result?.tools?.map((t) => t.name)).toContain('fetch');
    await gw.kill();
  });
});
