import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { killAllSpawned, spawnCli } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, loginAndConsent, repoRoot } from './gateway-helpers.js';

afterAll(async () => {
  await killAllSpawned();
});

const b64url = (b: Buffer) => b.toString('base64url');

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

      const reg = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['http://127.0.0.1:9/cb'],
          token_endpoint_auth_method: 'none',
          client_name: 'example test',
        }),
      });
      const { client_id } = (await reg.json()) as { client_id: string };
      const verifier = b64url(randomBytes(32));
      const authorize = new URL(`${base}/authorize`);
      authorize.search = new URLSearchParams({
        response_type: 'code',
        client_id,
        redirect_uri: 'http://127.0.0.1:9/cb',
        code_challenge: b64url(createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
        state: 's',
        resource: `${base}/mcp`,
        scope: 'notes',
      }).toString();
      const back = await loginAndConsent(authorize.href, { username: 'demo', password: 'example-password' });
      const tokenRes = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: back.searchParams.get('code')!,
          redirect_uri: 'http://127.0.0.1:9/cb',
          client_id,
          code_verifier: verifier,
          resource: `${base}/mcp`,
        }),
      });
      const { access_token } = (await tokenRes.json()) as { access_token: string };
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
