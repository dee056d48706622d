import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { classifyAddress, isAddressAllowed, type DnsResolver } from '../../src/index.js';
import { cacheLifetimeMs, parseCimdClientId } from '../../src/clients/cimd.js';
import type { Logger } from '../../src/http/errors.js';
import { testServer } from '../helpers/server.js';

interface LogLine {
  level: keyof Logger;
  message: string;
  fields?: Record<string, unknown>;
}
/** A logger that keeps every line, to check what reaches the server log. */
const recordingLogger = (lines: LogLine[]): Logger => ({
  debug: (message, fields) => void lines.push({ level: 'debug', message, fields }),
  info: (message, fields) => void lines.push({ level: 'info', message, fields }),
  warn: (message, fields) => void lines.push({ level: 'warn', message, fields }),
  error: (message, fields) => void lines.push({ level: 'error', message, fields }),
});

interface Doc {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}
const docs = new Map<string, (url: string) => Doc>();
const hits = new Map<string, number>();
let host: Listening;

beforeAll(async () => {
  host = await listen(async (request) => {
    const url = new URL(request.url);
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (url.pathname === '/hang') return new Promise<Response>(() => {});
    const make = docs.get(url.pathname);
    if (!make) return new Response('not found', { status: 404 });
    const d = make(`${host.url}${url.pathname}`);
    return new Response(d.body, {
      status: d.status ?? 200,
      headers: { 'content-type': 'application/json', ...d.headers },
    });
  });
});
afterAll(() => host?.close());

let n = 0;
/** Serves a document at a fresh path; returns its client_id URL. */
function serve(
  make: (clientId: string) => Partial<Record<string, unknown>>,
  extra: Omit<Doc, 'body'> = {},
): string {
  const path = `/clients/${++n}.json`;
  docs.set(path, (clientId) => ({ ...extra, body: JSON.stringify(make(clientId)) }));
  return `${host.url}${path}`;
}
const good = (clientId: string) => ({
  client_id: clientId,
  client_name: 'Doc Client',
  redirect_uris: ['http://127.0.0.1:7777/callback'],
});
const loopbackServer = (extra: Record<string, unknown> = {}) =>
  testServer({ cimd: { allowLoopback: true, timeoutMs: 500, ...extra } });

describe('client id metadata documents', () => {
  it('cimd: a URL client_id resolves to a public client from its document', async () => {
    const { server } = loopbackServer();
    const id = serve(good);
    const client = await server.clients.get(id);
    expect(client).toMatchObject({
      client_id: id,
      kind: 'cimd',
      metadata: { client_name: 'Doc Client', token_endpoint_auth_method: 'none', application_type: 'native' },
    });
  });

  it('cimd: Cache-Control max-age is honoured, capped by the ceiling', async () => {
    const { server, clock } = loopbackServer({ cacheMaxMs: 120_000 });
    const id = serve(good, { headers: { 'cache-control': 'public, max-age=60' } });
    const path = new URL(id).pathname;
    await server.clients.get(id);
    await server.clients.get(id);
    expect(hits.get(path)).toBe(1);
    clock.advance(61_000);
    await server.clients.get(id);
    expect(hits.get(path)).toBe(2);

    const long = serve(good, { headers: { 'cache-control': 'max-age=999999' } });
    await server.clients.get(long);
    clock.advance(121_000);
    await server.clients.get(long);
    expect(hits.get(new URL(long).pathname)).toBe(2);
  });

  it('cimd cap: beyond cimd.cacheMaxEntries documents are fetched and used but not cached; expired ones free room', async () => {
    const { server, clock } = loopbackServer({ cacheMaxEntries: 2 });
    const [a, b, c] = [serve(good), serve(good), serve(good)];
    const fetched = (id: string) => hits.get(new URL(id).pathname) ?? 0;
    for (const id of [a, b, c]) expect(await server.clients.get(id)).toMatchObject({ client_id: id });
    // a and b are cached; c was used but not kept (no store entry), so it is fetched again.
    expect(await server.store.get(`cimd:${c}`)).toBeUndefined();
    expect(await server.store.get(`cimd:${a}`)).toBeDefined();
    expect((await server.store.members('cimd:index')).sort()).toEqual([a, b].sort());
    await server.clients.get(a);
    expect(await server.clients.get(c)).toMatchObject({ client_id: c, kind: 'cimd' });
    expect([fetched(a), fetched(b), fetched(c)]).toEqual([1, 1, 2]);
    // Once the cached documents expired (default 5 min), c is cached.
    clock.advance(5 * 60_000 + 1);
    await server.clients.get(c);
    await server.clients.get(c);
    expect(fetched(c)).toBe(3);
    expect(await server.store.members('cimd:index')).toEqual([c]);
  });

  it('cimd: no-store documents are fetched every time', async () => {
    const { server } = loopbackServer();
    const id = serve(good, { headers: { 'cache-control': 'no-store' } });
    await server.clients.get(id);
    await server.clients.get(id);
    expect(hits.get(new URL(id).pathname)).toBe(2);
  });

  it.each<[string, (id: string) => Record<string, unknown>, RegExp]>([
    [
      'client_id differs from the URL',
      (id) => ({ ...good(id), client_id: `${id}x` }),
      /does not equal its URL/,
    ],
    [
      'client_name missing',
      (id) => ({ client_id: id, redirect_uris: ['http://127.0.0.1:1/cb'] }),
      /client_name/,
    ],
    ['redirect_uris missing', (id) => ({ client_id: id, client_name: 'x' }), /invalid_redirect_uri/],
    [
      'a javascript: redirect',
      (id) => ({ ...good(id), redirect_uris: ['javascript:alert(1)'] }),
      /invalid_redirect_uri/,
    ],
    [
      'application_type web with a loopback redirect (sep-837)',
      (id) => ({ ...good(id), application_type: 'web' }),
      /must use https/,
    ],
    ['a client secret', (id) => ({ ...good(id), client_secret: 's' }), /client_secret must not appear/],
    [
      'secret-based auth',
      (id) => ({ ...good(id), token_endpoint_auth_method: 'client_secret_basic' }),
      /token_endpoint_auth_method/,
    ],
  ])('cimd: a document with %s is refused with invalid_client', async (_name, make, description) => {
    const { server, audit } = loopbackServer();
    const id = serve(make);
    await expect(server.clients.get(id)).rejects.toMatchObject({
      error: 'invalid_client',
      status: 401,
      description: expect.stringMatching(description) as string,
    });
    expect(audit.some((e) => e.type === 'client.metadata_document_rejected' && e.clientId === id)).toBe(true);
  });

  it('cimd: documents over 5 KB are refused', async () => {
    const { server } = loopbackServer();
    const id = serve((clientId) => ({ ...good(clientId), padding: 'x'.repeat(6000) }));
    await expect(server.clients.get(id)).rejects.toMatchObject({
      error: 'invalid_client',
      description: 'client metadata document: document exceeds 5120 bytes',
    });
  });

  it('cimd: non-JSON, non-200 and redirects are refused (redirects are not followed)', async () => {
    const { server } = loopbackServer();
    docs.set('/garbage', () => ({ body: '<html>' }));
    docs.set('/gone', () => ({ status: 410, body: '{}' }));
    docs.set('/moved', () => ({ status: 302, headers: { location: '/clients/1.json' }, body: '' }));
    await expect(server.clients.get(`${host.url}/garbage`)).rejects.toMatchObject({
      description: /not valid JSON/,
    });
    await expect(server.clients.get(`${host.url}/gone`)).rejects.toMatchObject({ description: /HTTP 410/ });
    await expect(server.clients.get(`${host.url}/moved`)).rejects.toMatchObject({ description: /HTTP 302/ });
  });

  it('cimd: a document that never arrives times out', async () => {
    const { server } = loopbackServer({ timeoutMs: 150 });
    await expect(server.clients.get(`${host.url}/hang`)).rejects.toMatchObject({
      error: 'invalid_client',
      description: 'client metadata document: timed out after 150 ms',
    });
  });

  it('cimd ssrf: a client_id on 127.0.0.1 is refused by default, before any connection', async () => {
    const { server } = testServer();
    const before = hits.size;
    const id = `https://127.0.0.1:${host.port}/clients/1.json`;
    await expect(server.clients.get(id)).rejects.toMatchObject({
      error: 'invalid_client',
      description: 'client metadata document: refusing to fetch from a non-public address',
    });
    expect(hits.size).toBe(before);
    await expect(server.clients.get(`${host.url}/clients/1.json`)).rejects.toMatchObject({
      description: 'client metadata document: client_id URL must use https',
    });
  });

  it.each([
    ['169.254.169.254', 'cloud metadata'],
    ['10.0.0.5', 'private'],
    ['127.0.0.1', 'loopback'],
    ['::ffff:127.0.0.1', 'v4-mapped loopback'],
    ['fd00::1', 'unique local'],
    ['0.0.0.0', 'unspecified'],
  ])(
    'cimd ssrf: a host name resolving to %s (%s) is refused in the socket lookup, without naming the address',
    async (address) => {
      const resolver: DnsResolver = async () => [{ address, family: address.includes(':') ? 6 : 4 }];
      const logs: LogLine[] = [];
      const { server, audit } = testServer({ cimd: { resolver }, logger: recordingLogger(logs) });
      const err = await server.clients.get('https://cimd.example/client.json').catch((e: unknown) => e);
      expect(err).toMatchObject({
        error: 'invalid_client',
        description: 'client metadata document: cimd.example resolves to a non-public address',
      });
      expect(JSON.stringify(err)).not.toContain(address);
      expect(JSON.stringify(audit)).not.toContain(address);
      // The operator still learns the address, from the structured log.
      expect(logs).toContainEqual({
        level: 'warn',
        message: 'client metadata document refused',
        fields: expect.objectContaining({ address, clientId: 'https://cimd.example/client.json' }),
      });
    },
  );

  it('cimd ssrf: the error over HTTP (authorize page) does not name the private address either', async () => {
    const resolver: DnsResolver = async () => [{ address: '10.9.8.7', family: 4 }];
    const { call } = testServer({ cimd: { resolver } });
    const res = await call(
      `/authorize?client_id=${encodeURIComponent('https://cimd.example/client.json')}&response_type=code`,
    );
    const page = await res.text();
    expect(page).toContain('resolves to a non-public address');
    expect(page).not.toContain('10.9.8.7');
  });

  it('cimd ssrf: one bad address among several refuses the host (no DNS round-robin bypass)', async () => {
    const resolver: DnsResolver = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    const { server } = testServer({ cimd: { resolver } });
    await expect(server.clients.get('https://cimd.example/client.json')).rejects.toMatchObject({
      description: 'client metadata document: cimd.example resolves to a non-public address',
    });
  });

  it('cimd ssrf: the connection goes to the address the resolver checked', async () => {
    const resolved: string[] = [];
    const resolver: DnsResolver = async (hostname) => {
      resolved.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const { server } = testServer({ cimd: { allowLoopback: true, resolver } });
    const path = `/clients/${++n}.json`;
    const id = `http://localhost:${host.port}${path}`;
    docs.set(path, () => ({ body: JSON.stringify(good(id)) }));
    expect((await server.clients.get(id))?.kind).toBe('cimd');
    expect(resolved).toEqual(['localhost']);
  });

  it('cimd: disabled means URL client_ids are refused', async () => {
    const { server } = testServer({ cimd: { enabled: false } });
    await expect(server.clients.get('https://cimd.example/client.json')).rejects.toMatchObject({
      error: 'invalid_client',
    });
  });
});

describe('cimd URL rules', () => {
  it.each([
    ['https://app.example/client.json', true],
    ['https://app.example:8443/a/b?x=1', true],
    ['https://app.example/', 'client_id URL must have a path'],
    ['https://app.example', 'client_id URL must have a path'],
    ['http://app.example/client.json', 'client_id URL must use https'],
    ['https://u:p@app.example/c', 'client_id URL must not contain userinfo'],
    ['https://app.example/c#f', 'client_id URL must not contain a fragment'],
    ['https://app.example/a/../c', 'client_id URL must not contain dot segments'],
    ['https://APP.example/c', 'client_id URL must be in normalized form'],
    ['https://', 'client_id is not a valid URL'],
  ])('%s → %s', (id, expected) => {
    const out = parseCimdClientId(id, false);
    if (expected === true) expect(out).toBeInstanceOf(URL);
    else expect(out).toBe(expected);
  });

  it('cache lifetime follows Cache-Control, then Expires, then the default, within the ceiling', () => {
    const s = { cacheMaxMs: 3_600_000, cacheDefaultMs: 300_000 };
    const h = (init: Record<string, string>) => new Headers(init);
    const now = Date.parse('2026-11-22T00:00:00Z');
    expect(cacheLifetimeMs(h({ 'cache-control': 'max-age=60' }), now, s)).toBe(60_000);
    expect(cacheLifetimeMs(h({ 'cache-control': 'public, max-age=999999' }), now, s)).toBe(3_600_000);
    expect(cacheLifetimeMs(h({ 'cache-control': 'no-store' }), now, s)).toBe(0);
    expect(cacheLifetimeMs(h({ 'cache-control': 'no-cache, max-age=60' }), now, s)).toBe(0);
    expect(cacheLifetimeMs(h({ expires: 'Sun, 22 Nov 2026 00:02:00 GMT' }), now, s)).toBe(120_000);
    expect(cacheLifetimeMs(h({ expires: 'garbage' }), now, s)).toBe(0);
    expect(cacheLifetimeMs(h({}), now, s)).toBe(300_000);
  });
});

describe('address classifier', () => {
  it.each([
    ['93.184.215.14', 'public'],
    ['2606:4700::6810:84e5', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'forbidden'],
    ['168.63.129.16', 'forbidden'],
    ['100.100.100.200', 'forbidden'],
    ['fd00:ec2::254', 'forbidden'],
    ['fe80::1', 'forbidden'],
    ['fe80::1%eth0', 'forbidden'],
    ['0.0.0.0', 'forbidden'],
    ['::', 'forbidden'],
    ['224.0.0.1', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['64:ff9b::a00:1', 'forbidden'],
    ['2002:a00:1::', 'forbidden'],
    ['2002:7f00:1::', 'forbidden'],
    ['0x7f.0.0.1', 'forbidden'],
    ['2130706433', 'forbidden'],
    ['not-an-ip', 'forbidden'],
    ['', 'forbidden'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('policy: loopback and private only when allowed; forbidden never', () => {
    expect(isAddressAllowed('127.0.0.1')).toBe(false);
    expect(isAddressAllowed('127.0.0.1', { allowLoopback: true })).toBe(true);
    expect(isAddressAllowed('10.0.0.1', { allowLoopback: true })).toBe(false);
    expect(isAddressAllowed('10.0.0.1', { allowPrivate: true })).toBe(true);
    expect(isAddressAllowed('169.254.169.254', { allowLoopback: true, allowPrivate: true })).toBe(false);
    expect(isAddressAllowed('8.8.8.8')).toBe(true);
  });
});
