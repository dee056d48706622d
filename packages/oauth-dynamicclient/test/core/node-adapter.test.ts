import http from 'node:http';
import { listenNode } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { bodyResponse } from '../../src/http/known-body.js';
import { acceptLazyRequests, realRequest } from '@mcp-gateway/internal/lazy-request';
import {
  createAuthorizationServer,
  silentLogger,
  toNodeListener,
  type FetchHandler,
} from '../../src/index.js';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

async function serve(handler: FetchHandler): Promise<string> {
  const l = await listenNode(toNodeListener(handler));
  closers.push(() => l.close());
  return l.url;
}

/** Echoes what the handler saw of the request. */
const echo = async (request: Request) => {
  const body = request.body === null ? null : await request.text();
  return Response.json({
    method: request.method,
    url: request.url,
    isRequest: request instanceof Request,
    hasBody: request.body !== null,
    body,
    auth: request.headers.get('authorization'),
    multi: request.headers.get('x-multi'),
    has: request.headers.has('x-multi'),
  });
};

describe('node adapter: light requests (server.fetch passed directly) behave like real ones', () => {
  const variants: Record<string, FetchHandler> = {
    real: (r) => echo(r),
    light: acceptLazyRequests((r: Request) => echo(r)),
  };

  it.each(Object.keys(variants))(
    'node adapter (%s): method, url, headers (duplicates joined with ", "), body and bodyless requests',
    async (name) => {
      const url = await serve(variants[name]!);
      const get = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = http.request(`${url}/a/../p?q=1 2`, {
          headers: { authorization: 'Bearer t', 'x-multi': ['a', 'b'] },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
        });
        req.on('error', reject);
        req.end();
      });
      expect(get).toEqual({
        method: 'GET',
        url: `${url}/p?q=1%202`,
        isRequest: true,
        hasBody: false,
        body: null,
        auth: 'Bearer t',
        multi: 'a, b',
        has: true,
      });
      // A POST without a body gets no body stream; with one, the body arrives.
      const empty = (await (await fetch(`${url}/x`, { method: 'POST' })).json()) as Record<string, unknown>;
      expect(empty).toMatchObject({ method: 'POST', hasBody: false, body: null });
      const posted = (await (await fetch(`${url}/x`, { method: 'POST', body: 'hello' })).json()) as Record<
        string,
        unknown
      >;
      expect(posted).toMatchObject({ hasBody: true, body: 'hello', has: false, multi: null });
    },
  );

  it('node adapter (light): clone(), realRequest() and header changes carry into the real request', async () => {
    const url = await serve(
      acceptLazyRequests(async (request: Request) => {
        request.headers.set('x-added', '1');
        const real = realRequest(request);
        const copy = request.clone();
        // undici reads the internals of what it is given: the real request has them.
        const viaNew = new Request(real.clone());
        return Response.json({
          realIsOther: real !== request,
          realAgain: realRequest(request) === real,
          added: real.headers.get('x-added'),
          copyBody: await copy.text(),
          body: await request.text(),
          viaNew: [viaNew.headers.get('x-added'), await viaNew.text()],
        });
      }),
    );
    const res = await fetch(`${url}/`, { method: 'PUT', body: 'payload' });
    expect(await res.json()).toEqual({
      realIsOther: true,
      realAgain: true,
      added: '1',
      copyBody: 'payload',
      body: 'payload',
      viaNew: ['1', 'payload'],
    });
  });

  it.each(Object.keys(variants))(
    'node adapter (%s): request.signal aborts when the client disconnects before the response',
    async (name) => {
      let aborted!: () => void;
      const sawAbort = new Promise<void>((r) => (aborted = r));
      let started!: () => void;
      const handlerStarted = new Promise<void>((r) => (started = r));
      const handler = async (request: Request) => {
        request.signal.addEventListener('abort', () => aborted());
        started();
        await sawAbort;
        return new Response('late');
      };
      const url = await serve(name === 'light' ? acceptLazyRequests(handler) : handler);
      const controller = new AbortController();
      const pending = fetch(`${url}/slow`, { signal: controller.signal }).catch(() => 'aborted');
      await handlerStarted;
      controller.abort();
      await sawAbort;
      expect(await pending).toBe('aborted');
    },
  );
});

describe('node adapter: responses', () => {
  it('node adapter: a body known up front is sent with Content-Length; a streamed one stays chunked', async () => {
    const url = await serve(async (request) =>
      new URL(request.url).pathname === '/known'
        ? bodyResponse('{"ok":true}', { headers: { 'content-type': 'application/json' } })
        : new Response(
            new ReadableStream({
              start(c) {
                c.enqueue(new TextEncoder().encode('streamed'));
                c.close();
              },
            }),
          ),
    );
    const known = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/known`, resolve));
    expect(known.headers['content-length']).toBe('11');
    expect(known.headers['transfer-encoding']).toBeUndefined();
    known.resume();
    const streamed = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/s`, resolve));
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    streamed.resume();
  });

  it('node adapter: a known body already read by the handler is not sent twice from memory', async () => {
    const url = await serve(async () => {
      const res = bodyResponse('abc');
      await res.clone().text(); // a clone leaves the original unread
      return res;
    });
    expect(await (await fetch(url)).text()).toBe('abc');
  });

  it('node adapter: a handler that throws or rejects answers 500 server_error without details', async () => {
    for (const handler of [
      () => {
        throw new Error('secret detail');
      },
      () => Promise.reject(new Error('secret detail')),
    ] as FetchHandler[]) {
      const url = await serve(handler);
      const res = await fetch(url);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: 'server_error', error_description: 'internal error' });
      expect(text).not.toContain('secret');
    }
  });

  it('node adapter: the server answers through light requests with the same bytes as through real ones', async () => {
    const make = (origin: string) =>
      createAuthorizationServer({
        issuer: origin,
        resources: [{ resource: `${origin}/mcp`, scopes: ['mcp'] }],
        logger: silentLogger,
      });
    const late: Record<string, http.RequestListener> = {};
    const direct = await listenNode((q, s) => late.direct!(q, s));
    const wrapped = await listenNode((q, s) => late.wrapped!(q, s));
    closers.push(
      () => direct.close(),
      () => wrapped.close(),
    );
    // Same issuer for both, so the documents are comparable.
    const as = make('http://127.0.0.1:1');
    late.direct = toNodeListener(as.fetch, { origin: 'http://127.0.0.1:1' });
    late.wrapped = toNodeListener((r, i) => as.fetch(r, i), { origin: 'http://127.0.0.1:1' });
    for (const [path, init] of [
      ['/.well-known/oauth-authorization-server', {}],
      ['/nope', {}],
      ['/register', { method: 'PATCH' }],
      ['/register', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }],
      [
        '/token',
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' },
      ],
      ['/verify', { headers: { authorization: 'Bearer nope', 'x-forwarded-uri': '/mcp' } }],
    ] as [string, RequestInit][]) {
      const a = await fetch(`${direct.url}${path}`, init);
      const b = await fetch(`${wrapped.url}${path}`, init);
      expect([path, a.status, await a.text()]).toEqual([path, b.status, await b.text()]);
      expect(a.headers.get('content-type')).toBe(b.headers.get('content-type'));
    }
    const head = await fetch(`${direct.url}/.well-known/oauth-authorization-server`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
