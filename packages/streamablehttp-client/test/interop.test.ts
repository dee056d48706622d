/**
 * Interoperability with authorization servers other than ours (issue 15): the
 * deviations real servers (and the MCP conformance suite) show, against small
 * real servers on 127.0.0.1.
 */
import { createServer, type Socket } from 'node:net';
import * as oauth from 'oauth4webapi';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { discover } from '../src/oauth/discovery.js';
import {
  clientAuthFor,
  loopbackOnlyInsecure,
  requestOptions,
  withClientAuthFallback,
  type OAuthHttp,
} from '../src/oauth/oauth4.js';
import { getMetadataDocument } from '../src/oauth/metadata-request.js';
import { registerClient } from '../src/oauth/registration.js';
import type { StoredClient } from '../src/store/types.js';
import { goodAsMetadata, json, startFakeServer, type Route } from './helpers/fake-as.js';

const http: OAuthHttp = { fetch, allowInsecure: loopbackOnlyInsecure };
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(routes: Record<string, Route>) {
  const s = await startFakeServer(routes);
  servers.push(s);
  return s;
}
function capture() {
  const lines: string[] = [];
  return { log: createLogger('warn', (l) => void lines.push(l)), lines };
}
const metadata = (base: string) => ({
  issuer: `${base}/`,
  authorization_endpoint: `${base}/authorize`,
  token_endpoint: `${base}/token`,
  registration_endpoint: `${base}/register`,
  code_challenge_methods_supported: ['S256'],
});
const REGISTRATION = { client_name: 'c', redirect_uris: ['http://127.0.0.1:1/callback'] };

describe('rfc7591 §3.2.1: registration responses are read leniently', () => {
  it('a response with a client_id and a secret but no client_secret_expires_at is accepted as "does not expire", with a warning naming the endpoint', async () => {
    const s = await serve({
      'POST /register': () => json({ client_id: 'c1', client_secret: 's1', client_name: 'c' }, 201),
    });
    const { log, lines } = capture();
    const client = await registerClient(metadata(s.url), REGISTRATION, http, log);
    expect(client).toMatchObject({
      client_id: 'c1',
      client_secret: 's1',
      client_secret_expires_at: 0,
      source: 'dcr',
    });
    expect(client.redirect_uris).toEqual(REGISTRATION.redirect_uris);
    expect(lines.join('')).toContain(`registration endpoint ${s.url}/register deviates from RFC 7591`);
    expect(lines.join('')).toContain('client_secret_expires_at is missing');
  });

  it('a 200 instead of 201 and malformed optional members are warnings, not failures', async () => {
    const s = await serve({
      'POST /register': () =>
        json({ client_id: 'c2', client_id_issued_at: 'yesterday', redirect_uris: 'x' }, 200),
    });
    const { log, lines } = capture();
    const client = await registerClient(metadata(s.url), REGISTRATION, http, log);
    expect(client.client_id).toBe('c2');
    expect(client.client_id_issued_at).toBeUndefined();
    expect(client.redirect_uris).toEqual(REGISTRATION.redirect_uris);
    expect(lines.join('')).toMatch(/answered HTTP 200 instead of 201.*client_id_issued_at is not a number/);
  });

  it('a response without a usable client_id is refused, naming the endpoint and the rule', async () => {
    const s = await serve({ 'POST /register': () => json({ client_id: '' }, 201) });
    await expect(registerClient(metadata(s.url), REGISTRATION, http)).rejects.toThrow(
      `registration endpoint ${s.url}/register broke RFC 7591 §3.2.1: the registration response has no client_id`,
    );
  });

  it('rfc7591 §3.2.2: an error response keeps its error code', async () => {
    const s = await serve({
      'POST /register': () => json({ error: 'invalid_redirect_uri', error_description: 'no' }, 400),
    });
    await expect(registerClient(metadata(s.url), REGISTRATION, http)).rejects.toMatchObject({
      code: 'invalid_redirect_uri',
    });
  });
});

describe('rfc6749 §2.3.1: client_secret_basic', () => {
  /** A token endpoint that records the Authorization header and body, answering with `answer`. */
  async function tokenEndpoint(answer: (req: Request, body: URLSearchParams) => Response) {
    const seen: Array<{ authorization: string | null; body: URLSearchParams }> = [];
    const s = await serve({
      'POST /token': async (req) => {
        const body = new URLSearchParams(await req.text());
        seen.push({ authorization: req.headers.get('authorization'), body });
        return answer(req, body);
      },
    });
    return { s, seen, as: metadata(s.url) as oauth.AuthorizationServer };
  }
  const ok = () => json({ access_token: 'at', token_type: 'bearer', expires_in: 60 });
  const refresh = (as: oauth.AuthorizationServer, client: StoredClient) =>
    withClientAuthFallback(client, 'token refresh', async (auth) =>
      oauth.processRefreshTokenResponse(
        as,
        { client_id: client.client_id },
        await oauth.refreshTokenGrantRequest(
          as,
          { client_id: client.client_id },
          auth,
          'rt',
          requestOptions(http, as.token_endpoint),
        ),
      ),
    );

  it('sends unreserved characters raw (pre-registered-client, not pre%2Dregistered%2Dclient) and encodes ":" and "%"', async () => {
    const { seen, as } = await tokenEndpoint(ok);
    const client: StoredClient = {
      client_id: 'pre-registered-client',
      client_secret: 'a:b%c-d_e.f~',
      redirect_uris: [],
      source: 'static',
    };
    await refresh(as, client);
    const header = seen[0]!.authorization!;
    expect(header.startsWith('Basic ')).toBe(true);
    expect(Buffer.from(header.slice(6), 'base64').toString()).toBe('pre-registered-client:a%3Ab%25c-d_e.f~');
    expect(clientAuthFor(client)).toBeTypeOf('function');
  });

  it('falls back to client_secret_post once when the server answers invalid_client to Basic, and remembers it', async () => {
    const { seen, as } = await tokenEndpoint((req) =>
      req.headers.get('authorization')
        ? json({ error: 'invalid_client', error_description: 'basic not accepted' }, 401)
        : ok(),
    );
    const client: StoredClient = { client_id: 'c', client_secret: 's', redirect_uris: [], source: 'dcr' };
    const warned: string[] = [];
    await withClientAuthFallback(
      client,
      'token refresh',
      async (auth) =>
        oauth.processRefreshTokenResponse(
          as,
          { client_id: 'c' },
          await oauth.refreshTokenGrantRequest(
            as,
            { client_id: 'c' },
            auth,
            'rt',
            requestOptions(http, as.token_endpoint),
          ),
        ),
      (reason) => warned.push(reason),
    );
    expect(seen).toHaveLength(2);
    expect(seen[1]!.authorization).toBeNull();
    expect(seen[1]!.body.get('client_secret')).toBe('s');
    expect(client.token_endpoint_auth_method).toBe('client_secret_post');
    expect(warned[0]).toContain('invalid_client');
  });

  it('does not fall back for a client that is not using Basic, and reports the refusal', async () => {
    const { seen, as } = await tokenEndpoint(() => json({ error: 'invalid_client' }, 401));
    const client: StoredClient = {
      client_id: 'c',
      client_secret: 's',
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [],
      source: 'dcr',
    };
    await expect(refresh(as, client)).rejects.toMatchObject({ code: 'invalid_client' });
    expect(seen).toHaveLength(1);
  });
});

describe('MCP 2025-03-26 authorization discovery (no RFC 9728 metadata)', () => {
  const unauthorized: Route = () => json({ error: 'invalid_token' }, 401, { 'www-authenticate': 'Bearer' });

  it('uses the metadata at the MCP server origin even when its issuer differs (…/oauth), with a warning', async () => {
    const s = await serve({
      'POST /mcp': unauthorized,
      '/.well-known/oauth-authorization-server': (_req, base) =>
        json({ ...metadata(`${base}/oauth`), issuer: `${base}/oauth` }),
    });
    const { log, lines } = capture();
    const d = await discover(new URL(`${s.url}/mcp`), { fetch, log });
    expect(d.issuer).toBe(`${s.url}/oauth`);
    expect(d.authorizationServer.token_endpoint).toBe(`${s.url}/oauth/token`);
    expect(d.resourceMetadataUrl).toBeUndefined();
    expect(lines.join('')).toContain('names another issuer');
  });

  it('falls back to /authorize, /token and /register at the origin when there is no metadata at all', async () => {
    const s = await serve({ 'POST /mcp': unauthorized });
    const { log, lines } = capture();
    const d = await discover(new URL(`${s.url}/some/path/mcp`), { fetch, log });
    expect(d.authorizationServer).toMatchObject({
      issuer: `${s.url}/`,
      authorization_endpoint: `${s.url}/authorize`,
      token_endpoint: `${s.url}/token`,
      registration_endpoint: `${s.url}/register`,
      code_challenge_methods_supported: ['S256'],
    });
    expect(lines.join('')).toContain('2025-03-26 default endpoints');
  });

  it('with RFC 9728 metadata, an issuer mismatch is still refused (mix-up defence)', async () => {
    const s = await serve({
      'POST /mcp': (_req, base) =>
        json({ error: 'invalid_token' }, 401, {
          'www-authenticate': `Bearer resource_metadata="${base}/prm"`,
        }),
      '/prm': (_req, base) => json({ resource: `${base}/mcp`, authorization_servers: [`${base}/`] }),
      '/.well-known/oauth-authorization-server': (req, base) => goodAsMetadata(req, `${base}/other`),
    });
    await expect(discover(new URL(`${s.url}/mcp`), { fetch })).rejects.toThrow(
      /names issuer .*other.*expected/,
    );
  });
});

describe('metadata requests survive a dropped connection', () => {
  /** A raw HTTP server that resets the first `resets` connections as soon as a request arrives. */
  async function resettingServer(resets: number) {
    let seen = 0;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.once('data', () => {
        seen++;
        if (seen <= resets) return void socket.resetAndDestroy();
        const body = JSON.stringify({ resource: 'http://x/mcp', authorization_servers: ['http://x/'] });
        socket.end(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    servers.push({
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    });
    return { url: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource`, requests: () => seen };
  }

  it('a GET whose connection is reset before the answer is retried once on a new connection', async () => {
    const s = await resettingServer(1);
    const res = await getMetadataDocument(fetch, s.url);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resource: 'http://x/mcp' });
    expect(s.requests()).toBe(2);
  });

  it('a second reset is reported, naming the URL', async () => {
    const s = await resettingServer(2);
    await expect(getMetadataDocument(fetch, s.url)).rejects.toThrow(`cannot reach ${s.url}: ECONNRESET`);
    expect(s.requests()).toBe(2);
  });
});
