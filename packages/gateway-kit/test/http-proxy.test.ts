import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../src/errors.js';
import { HttpServiceProxy } from '../src/proxy/http-proxy.js';
import { createNodeServer } from '../src/http/node.js';
import type { HttpServiceConfig } from '../src/config/schema.js';

const servers: Listening[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const svc = (url: string, extra: Partial<HttpServiceConfig> = {}): HttpServiceConfig => ({
  type: 'http',
  url,
  enabled: true,
  forwardIdentity: true,
  timeout: 5,
  maxSessions: 1000,
  maxSessionsPerUser: 10,
  sessionTimeout: 3600,
  ...extra,
});
const alice = { sub: 'u-alice', name: 'Alice Ö', clientId: 'c1', scopes: ['mcp:api'] };

describe('http services: reverse proxy', () => {
  it("never forwards the client's token, cookies, identity claims or claimed origin (X-Forwarded-*, Forwarded, X-Real-IP); sends the gateway credential and X-User-*", async () => {
    let seen: Headers | undefined;
    let seenBody = '';
    const up = await listen(async (req) => {
      seen = req.headers;
      seenBody = await req.text();
      return Response.json({ ok: true }, { headers: { 'mcp-session-id': 's1', 'set-cookie': 'a=b' } });
    });
    servers.push(up);
    const proxy = new HttpServiceProxy(
      'api',
      svc(`${up.url}/mcp`, { credentials: { type: 'bearer', token: 'upstream-secret' } }),
    );
    const res = await proxy.handle(
      new Request('http://gw/api/mcp?x=1', {
        method: 'POST',
        headers: {
          authorization: 'Bearer client-token',
          cookie: 'session=abc',
          'x-user-id': 'mallory',
          'x-forwarded-for': '1.2.3.4',
          forwarded: 'for=1.2.3.4;proto=https',
          'x-real-ip': '1.2.3.4',
          'content-type': 'application/json',
          'mcp-session-id': 's1',
        },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      }),
      alice,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBe('s1');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(seen!.get('authorization')).toBe('Bearer upstream-secret');
    expect(seen!.get('cookie')).toBeNull();
    expect(seen!.get('x-forwarded-for')).toBeNull();
    expect(seen!.get('forwarded')).toBeNull();
    expect(seen!.get('x-real-ip')).toBeNull();
    expect(seen!.get('x-user-id')).toBe('u-alice');
    expect(decodeURIComponent(seen!.get('x-user-name')!)).toBe('Alice Ö');
    expect(seen!.get('mcp-session-id')).toBe('s1');
    expect(seenBody).toBe('{"jsonrpc":"2.0","id":1,"method":"ping"}');
  });

  it('a header credential is sent under its own name, and no Authorization at all', async () => {
    let seen: Headers | undefined;
    const up = await listen((req) => {
      seen = req.headers;
      return new Response(null, { status: 202 });
    });
    servers.push(up);
    const proxy = new HttpServiceProxy(
      'api',
      svc(up.url, {
        credentials: { type: 'header', name: 'X-Api-Key', value: 'k1' },
        forwardIdentity: false,
      }),
    );
    const res = await proxy.handle(
      new Request('http://gw/mcp', { method: 'POST', headers: { authorization: 'Bearer t' }, body: '{}' }),
      alice,
    );
    expect(res.status).toBe(202);
    expect(seen!.get('x-api-key')).toBe('k1');
    expect(seen!.get('authorization')).toBeNull();
    expect(seen!.get('x-user-id')).toBeNull();
  });

  it('SSE streams through event by event, before the upstream has finished', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const up = await listen(() => {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(enc.encode('event: message\ndata: {"n":1}\n\n'));
          await released;
          c.enqueue(enc.encode('event: message\ndata: {"n":2}\n\n'));
          c.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    servers.push(up);
    const res = await new HttpServiceProxy('api', svc(up.url)).handle(new Request('http://gw/mcp'), alice);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('{"n":1}');
    release();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain('{"n":2}');
  });

  it('a client that goes away cancels the upstream request', async () => {
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((r) => (upstreamAborted = r));
    // The gateway's own node adapter: it aborts the request signal when the peer disconnects.
    const node = createNodeServer((_req, info) => {
      info.signal!.addEventListener('abort', () => upstreamAborted());
      return new Response(new ReadableStream({ start() {} }), {
        headers: { 'content-type': 'text/event-stream' },
      });
    });
    const upUrl = await node.listen(0, '127.0.0.1');
    const client = new AbortController();
    const res = await new HttpServiceProxy('api', svc(upUrl)).handle(
      new Request('http://gw/mcp', { signal: client.signal }),
      alice,
    );
    expect(res.status).toBe(200);
    client.abort();
    await res.body?.cancel().catch(() => {});
    await aborted;
    await node.drain(0);
  });

  it('backend down: 502 with JSON-RPC error -32000 (ConnectionClosed, as the bridge answers) naming the service', async () => {
    const up = await listen(() => new Response('x'));
    const url = up.url;
    await up.close();
    const err = await new HttpServiceProxy('api', svc(url))
      .handle(new Request('http://gw/mcp', { method: 'POST', body: '{}' }), alice)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    const res = (err as GatewayError).toResponse(7);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      error: {
        code: -32000,
        message: expect.stringMatching(/^service "api" is unavailable \(ECONNREFUSED\)/),
      },
      id: 7,
    });
  });

  it("an upstream 401 becomes 502 (the client's token was fine), without the upstream's challenge", async () => {
    const up = await listen(
      () =>
        new Response('no', {
          status: 401,
          headers: { 'www-authenticate': 'Bearer resource_metadata="https://up/x"' },
        }),
    );
    servers.push(up);
    const err = (await new HttpServiceProxy('api', svc(up.url))
      .handle(new Request('http://gw/mcp'), alice)
      .catch((e: unknown) => e)) as GatewayError;
    expect(err.status).toBe(502);
    expect(err.message).toBe('service "api" refused the gateway\'s credential (upstream 401)');
  });

  it('an upstream that does not answer in time gives 504 -32001 (RequestTimeout, as the bridge answers)', async () => {
    const up = await listen(() => new Promise<Response>(() => {}));
    servers.push(up);
    const err = (await new HttpServiceProxy('api', svc(up.url, { timeout: 1 }))
      .handle(new Request('http://gw/mcp'), alice)
      .catch((e: unknown) => e)) as GatewayError;
    expect([err.status, err.code]).toEqual([504, -32001]);
  });
});
