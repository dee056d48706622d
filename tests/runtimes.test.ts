// The authorization server core on the runtimes the root README names, each
// installed from npm (bun, deno, miniflare → workerd): a tiny app (runtimes/as-app.ts)
// answers metadata, registration, the code flow with PKCE and a bearer-guarded
// /mcp, driven over HTTP on 127.0.0.1.
import { mkdtempSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword } from '@mcp-gateway/oauth-dynamicclient';
import { killAllSpawned, spawnCli } from '@mcp-gateway/testkit';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, registerAndGetToken, repoRoot } from './gateway-helpers.js';

const dir = path.join(repoRoot, 'tests', 'runtimes');
const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);
const PASSWORD = 'runtime-password';
let passwordHash: string;

beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 });
});
afterAll(async () => {
  await killAllSpawned();
});

/** Metadata, RFC 7591 registration, authorize + sign-in + consent, token, and the guarded /mcp. */
async function exerciseAuthorizationServer(base: string): Promise<void> {
  const meta = await fetch(`${base}/.well-known/oauth-authorization-server`);
  expect(meta.status).toBe(200);
  expect(await meta.json()).toMatchObject({ issuer: base, token_endpoint: `${base}/token` });

  // Registration (RFC 7591), sign-in with scrypt, consent, code + PKCE, token.
  const access_token = await registerAndGetToken(base, {
    username: 'demo',
    password: PASSWORD,
    resource: `${base}/mcp`,
  });

  const anonymous = await fetch(`${base}/mcp`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toBe(
    `Bearer scope="mcp", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`,
  );
  const ok = await fetch(`${base}/mcp`, { headers: { authorization: `Bearer ${access_token}` } });
  expect(await ok.json()).toEqual({ sub: 'local:demo' });
}

describe('the authorization server core on other runtimes (each from npm)', () => {
  it('Bun (npm `bun`): metadata, registration, code flow with PKCE, token and a guarded resource', async () => {
    const port = await freePort();
    const app = spawnCli(bin('bun'), [path.join(dir, 'bun-server.mjs')], {
      cwd: repoRoot,
      env: { PORT: String(port), PASSWORD_HASH: passwordHash, BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
    });
    await app.waitForOutput(/listening on/, { timeoutMs: 30_000 });
    await exerciseAuthorizationServer(`http://127.0.0.1:${port}`);
    await app.kill();
  });

  it('Deno (npm `deno`): metadata, registration, code flow with PKCE, token and a guarded resource', async () => {
    const port = await freePort();
    const app = spawnCli(
      bin('deno'),
      [
        'run',
        '--quiet',
        '--no-prompt',
        '--node-modules-dir=manual',
        '--allow-net=127.0.0.1',
        '--allow-env',
        '--allow-read',
        '--allow-sys',
        path.join(dir, 'deno-server.mjs'),
      ],
      {
        cwd: repoRoot,
        env: {
          PORT: String(port),
          PASSWORD_HASH: passwordHash,
          DENO_DIR: mkdtempSync(path.join(tmpdir(), 'deno-dir-')),
          DENO_NO_UPDATE_CHECK: '1',
        },
      },
    );
    await app.waitForOutput(/listening on/, { timeoutMs: 30_000 });
    await exerciseAuthorizationServer(`http://127.0.0.1:${port}`);
    await app.kill();
  });

  describe('Cloudflare Workers (workerd through npm `miniflare`)', () => {
    let scriptPath: string;
    beforeAll(async () => {
      scriptPath = path.join(mkdtempSync(path.join(tmpdir(), 'worker-')), 'worker.mjs');
      const out = await build({
        entryPoints: [path.join(dir, 'worker.mjs')],
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        conditions: ['workerd', 'worker', 'browser'],
        mainFields: ['module', 'main'],
        // As wrangler does with nodejs_compat: node built-ins come from the runtime.
        external: ['node:*', ...builtinModules],
        outfile: scriptPath,
        logLevel: 'silent',
        plugins: [
          {
            // The root export still re-exports RedisStore, whose @keyv/redis →
            // @redis/client is CommonJS with `require('node:crypto')`, which an
            // ESM Worker bundle cannot run. The worker never uses Redis; until
            // Redis has its own subpath export, stand in for it.
            name: 'no-redis-in-workers',
            setup(b) {
              b.onResolve({ filter: /^@keyv\/redis$/ }, () => ({ path: 'keyv-redis', namespace: 'stub' }));
              b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
                contents:
                  'export default class KeyvRedis { constructor() { throw new Error("no Redis in this test worker"); } }',
              }));
            },
          },
        ],
      });
      expect(out.errors).toEqual([]);
    });

    async function worker(bindings: Record<string, string>) {
      const port = await freePort();
      const mf = new Miniflare({
        modules: true,
        scriptPath,
        modulesRoot: path.dirname(scriptPath),
        compatibilityDate: '2026-01-01',
        compatibilityFlags: ['nodejs_compat'],
        bindings: { ISSUER: `http://127.0.0.1:${port}`, PASSWORD_HASH: passwordHash, ...bindings },
        host: '127.0.0.1',
        port,
      });
      await mf.ready;
      return { base: `http://127.0.0.1:${port}`, mf };
    }

    it('with rateLimitSource (CF-Connecting-IP): metadata, registration, code flow, token and a guarded resource', async () => {
      const { base, mf } = await worker({ RATE_LIMIT_HEADER: 'cf-connecting-ip' });
      try {
        await exerciseAuthorizationServer(base);
      } finally {
        await mf.dispose();
      }
    });

    it('rate limits without a peer address: no rateLimitSource fails with a clear error instead of one shared bucket', async () => {
      const { base, mf } = await worker({});
      try {
        const res = await fetch(`${base}/.well-known/oauth-authorization-server`);
        expect(res.status).toBe(500);
        expect(await res.text()).toContain('rateLimitSource is required on Cloudflare Workers');
      } finally {
        await mf.dispose();
      }
    });
  });
});
