import path from 'node:path';
import { killAllSpawned, spawnCli } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, registerAndGetToken, repoRoot } from './gateway-helpers.js';

afterAll(async () => {
  await killAllSpawned();
});

describe.each(['express-app', 'hono-app'])(
  "examples/%s: someone else's MCP server protected in ~30 lines",
  (app) => {
    it('401 with resource_metadata without a token; registration, sign-in, consent and token give a working tools/call', async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const server = spawnCli(
        process.execPath,
        ['--import', 'tsx', path.join(repoRoot, 'examples', app, 'server.ts')],
        {
          cwd: path.join(repoRoot, 'examples', app),
          env: { PORT: String(port), DEMO_PASSWORD: 'example-password' },
        },
      );
      await server.waitForOutput(/notes MCP server on/, { timeoutMs: 30_000 });

      const call = (token?: string) =>
        fetch(`${base}/mcp`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name: 'whoami', arguments: {} },
          }),
        });
      const anonymous = await call();
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe(
        `Bearer scope="notes", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`,
      );

      const access_token = await registerAndGetToken(base, {
        username: 'demo',
        password: 'example-password',
        resource: `${base}/mcp`,
        scope: 'notes',
      });
      const ok = await call(access_token);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({
        jsonrpc: '2.0',
        id: 1,
        result: { content: [{ type: 'text', text: 'hello demo' }] },
      });
      await server.kill();
    });
  },
);
