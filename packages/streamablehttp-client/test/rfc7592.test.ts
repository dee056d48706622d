import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODES, FileTokenStore } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { startFakeServer, json } from './helpers/fake-as.js';

const closers: Array<() => Promise<unknown>> = [];
const homes: string[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(async () => {
  await Promise.all(homes.map((h) => fs.rm(h, { recursive: true, force: true })));
});

/** An RFC 7592 endpoint: one client, bearer `rat-<n>`, rotated on every update. */
async function registrationServer() {
  const state = {
    token: 'rat-1',
    client: {
      client_id: 'c1',
      client_name: 'old',
      redirect_uris: ['http://127.0.0.1:7000/callback'],
    } as Record<string, unknown>,
    deleted: false,
    puts: [] as unknown[],
  };
  const s = await startFakeServer({
    '/register/c1': async (req, base) => {
      if (state.deleted || req.headers.get('authorization') !== `Bearer ${state.token}`)
        return json({ error: 'invalid_token' }, 401);
      const full = () => ({
        ...state.client,
        registration_access_token: state.token,
        registration_client_uri: `${base}/register/c1`,
      });
      if (req.method === 'GET') return json(full());
      if (req.method === 'PUT') {
        const body = (await req.json()) as Record<string, unknown>;
        state.puts.push(body);
        state.client = body;
        state.token = `rat-${Number(state.token.slice(4)) + 1}`;
        return json(full());
      }
      if (req.method === 'DELETE') {
        state.deleted = true;
        return new Response(null, { status: 204 });
      }
      return json({ error: 'invalid_request' }, 405);
    },
  });
  closers.push(() => s.close());
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'mcp-client-7592-'));
  homes.push(home);
  const store = new FileTokenStore({ home });
  const server = `${s.url}/mcp`;
  await store.set({
    version: 1,
    server,
    issuer: `${s.url}/`,
    client: {
      client_id: 'c1',
      redirect_uris: ['http://127.0.0.1:7000/callback'],
      source: 'dcr',
      registration_access_token: 'rat-1',
      registration_client_uri: `${s.url}/register/c1`,
    },
    tokens: { access_token: 'at', token_type: 'bearer', obtained_at: 0 },
    updated_at: 1,
  });
  return { s, state, store, server, env: { MCP_STREAMABLEHTTP_CLIENT_HOME: home } };
}

describe('RFC 7592 client management', () => {
  it('rfc7592: client info reads the registration with the stored registration access token', async () => {
    const { server, env } = await registrationServer();
    const r = await cli(['client', 'info', '--url', server], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ client_id: 'c1', client_name: 'old' });
    const compat = await cli(['--get-client-info', '--url', server, '--json'], { env });
    expect(JSON.parse(compat.stdout)).toMatchObject({ client_id: 'c1' });
  });

  it('rfc7592: update sends every field but the server-managed ones, and stores a rotated registration token', async () => {
    const { server, env, state, store } = await registrationServer();
    const r = await cli(
      ['client', 'update', 'client_name=New name', 'contacts=["ops@example.com"]', '--url', server],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(state.puts[0]).toEqual({
      client_id: 'c1',
      client_name: 'New name',
      redirect_uris: ['http://127.0.0.1:7000/callback'],
      contacts: ['ops@example.com'],
    });
    expect((await store.list(server))[0]!.client!.registration_access_token).toBe('rat-2');
    // The Python original's spelling, with the rotated token.
    const compat = await cli(
      ['--update-client', 'client_name=Third,logo_uri=https://x.example/l.png', '--url', server],
      { env },
    );
    expect(compat.code, compat.stderr).toBe(0);
    expect(state.client).toMatchObject({ client_name: 'Third', logo_uri: 'https://x.example/l.png' });
  });

  it('rfc7592: delete removes the registration and the stored credentials; afterwards there is nothing to manage', async () => {
    const { server, env, state, store } = await registrationServer();
    const r = await cli(['client', 'delete', '--url', server], { env });
    expect(r.code).toBe(0);
    expect(state.deleted).toBe(true);
    expect(await store.list(server)).toEqual([]);
    const again = await cli(['--delete-client', '--url', server], { env });
    expect(again.code).toBe(EXIT_CODES.usage);
    expect(again.stderr).toContain(`no client registration stored for ${server}; run login first`);
  });

  it('rfc7592: a registration token the server rejects is an auth failure (exit 3) saying the registration may be gone', async () => {
    const { server, env, state } = await registrationServer();
    state.token = 'rotated-elsewhere';
    const r = await cli(['client', 'info', '--url', server], { env });
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toMatch(
      /rejected the registration access token for c1 \(HTTP 401: .*\); the registration may have been deleted/,
    );
  });
});
