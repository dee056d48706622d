import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import express from 'express';
import { Hono } from 'hono';
import { serve, type HttpBindings } from '@hono/node-server';
import { listenNode } from '@mcp-gateway/testkit';
import {
  createAuthorizationServer,
  silentLogger,
  toNodeListener,
  type AuthorizationServer,
} from '../../src/index.js';

interface Mounted {
  base: string;
  close(): Promise<void>;
}

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

/** Starts `server` for `prefix` ('' or '/auth') in a host framework; the issuer is built from the bound port. */
type Mount = (prefix: string, make: (origin: string) => AuthorizationServer) => Promise<Mounted>;

const mounts: Record<string, Mount> = {
  'node:http': async (_prefix, make) => {
    let listener: http.RequestListener = () => {};
    const l = await listenNode((req, res) => listener(req, res));
    const server = make(l.url);
    listener = toNodeListener((r, info) => server.fetch(r, info));
    return { base: l.url, close: () => l.close() };
  },
  'node:http, server.fetch passed directly (light requests)': async (_prefix, make) => {
    const late: { listener?: http.RequestListener } = {};
    const l = await listenNode((req, res) => late.listener!(req, res));
    late.listener = toNodeListener(make(l.url).fetch);
    return { base: l.url, close: () => l.close() };
  },
  'express 5, server.fetch passed directly (light requests)': async (prefix, make) => {
    const app = express();
    const late: { listener?: http.RequestListener } = {};
    const listener: http.RequestListener = (req, res) => late.listener!(req, res);
    app.get('/app/health', (_req, res) => void res.json({ ok: true }));
    app.use('/.well-known', listener);
    app.use(prefix || '/', listener);
    const l = await listenNode(app);
    late.listener = toNodeListener(make(l.url).fetch);
    return { base: l.url, close: () => l.close() };
  },
  'express 5': async (prefix, make) => {
    const app = express();
    const late: { server?: AuthorizationServer } = {};
    const listener = toNodeListener((r, info) => late.server!.fetch(r, info));
    app.get('/app/health', (_req, res) => void res.json({ ok: true }));
    app.use('/.well-known', listener);
    app.use(prefix || '/', listener);
    const l = await listenNode(app);
    late.server = make(l.url);
    return { base: l.url, close: () => l.close() };
  },
  'hono + @hono/node-server': async (prefix, make) => {
    const late: { server?: AuthorizationServer } = {};
    const app = new Hono<{ Bindings: HttpBindings }>();
    const forward = (c: { req: { raw: Request }; env: HttpBindings }) =>
      late.server!.fetch(c.req.raw, { remoteAddress: c.env.incoming.socket.remoteAddress ?? '' });
    app.get('/app/health', (c) => c.json({ ok: true }));
    app.all('/.well-known/*', forward);
    app.all(prefix ? `${prefix}/*` : '/*', forward);
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => (s.listening ? resolve() : s.once('listening', () => resolve())));
    const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    late.server = make(base);
    return {
      base,
      close: () =>
        new Promise<void>((resolve) => {
          (s as http.Server).closeAllConnections?.();
          s.close(() => resolve());
        }),
    };
  },
};

const cases = Object.keys(mounts).flatMap((framework): Array<[string, string]> => [
  [framework, ''],
  [framework, '/auth'],
]);

describe.each(cases)('mounted in %s at prefix %j', (framework, prefix) => {
  it('discovery, RFC 7591 registration and RFC 7592 management work end to end', async () => {
    const m = await mounts[framework]!(prefix, (origin) =>
      createAuthorizationServer({
        issuer: `${origin}${prefix}`,
        resources: [{ resource: `${origin}/mcp`, scopes: ['mcp'] }],
        logger: silentLogger,
      }),
    );
    closers.push(m.close);
    const issuer = `${m.base}${prefix}`;

    const meta = await fetch(`${m.base}/.well-known/oauth-authorization-server${prefix}`);
    expect(meta.status).toBe(200);
    const md = (await meta.json()) as { issuer: string; registration_endpoint: string };
    expect(md.issuer).toBe(issuer);
    expect(md.registration_endpoint).toBe(`${issuer}/register`);

    const prm = await fetch(`${m.base}/.well-known/oauth-protected-resource/mcp`);
    expect(await prm.json()).toMatchObject({ resource: `${m.base}/mcp`, authorization_servers: [issuer] });

    const reg = await fetch(md.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://web.example' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    expect(reg.status).toBe(201);
    expect(reg.headers.get('access-control-allow-origin')).toBe('*');
    const client = (await reg.json()) as {
      registration_client_uri: string;
      registration_access_token: string;
    };
    expect(client.registration_client_uri.startsWith(`${issuer}/register/`)).toBe(true);
    const auth = { authorization: `Bearer ${client.registration_access_token}` };

    expect((await fetch(client.registration_client_uri, { headers: auth })).status).toBe(200);
    expect((await fetch(client.registration_client_uri, { method: 'DELETE', headers: auth })).status).toBe(
      204,
    );
    expect((await fetch(client.registration_client_uri, { headers: auth })).status).toBe(401);

    const tooBig = await fetch(md.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://a.example/cb'], pad: 'x'.repeat(20_000) }),
    });
    expect(tooBig.status).toBe(413);

    if (!framework.startsWith('node:http')) {
      // The host app's own routes still work next to the server.
      expect((await fetch(`${m.base}/app/health`)).status).toBe(200);
    }
  });
});

describe('toNodeListener streaming', () => {
  it('streams request bodies in and response bodies out without buffering', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const listener = toNodeListener(async (request, info) => {
      if (request.method === 'POST') {
        let size = 0;
        for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>)
          size += chunk.byteLength;
        return new Response(JSON.stringify({ size, remote: info.remoteAddress }));
      }
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode('first\n'));
          await gate;
          controller.enqueue(new TextEncoder().encode('second\n'));
          controller.close();
        },
      });
      return new Response(body, { headers: { 'set-cookie': 'a=1' } });
    });
    const l = await listenNode(listener);
    closers.push(() => l.close());

    const big = new Uint8Array(3 * 1024 * 1024).fill(97);
    const posted = await fetch(`${l.url}/upload`, { method: 'POST', body: big });
    expect(await posted.json()).toEqual({ size: big.byteLength, remote: '127.0.0.1' });

    const res = await fetch(`${l.url}/stream`);
    expect(res.headers.get('set-cookie')).toBe('a=1');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first\n');
    release();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('second\n');
  });
});
