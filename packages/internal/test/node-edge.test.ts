// The one node edge (packages/internal/src/node-edge.ts), tested once with real servers on 127.0.0.1.
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { FetchHandler, RequestInfo } from '../src/fetch-handler.js';
import { bodyResponse } from '../src/known-body.js';
import { acceptLazyRequests, realRequest } from '../src/lazy-request.js';
import {
  addLazyHeaders,
  LateAnswer,
  lazyResponse,
  mergedHeaders,
  responseHeader,
  unbuiltResponse,
  whenSettled,
  type PushSink,
} from '../src/lazy-response.js';
import { createNodeServer, toNodeListener, type NodeEdgeOptions } from '../src/node-edge.js';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

async function serve(handler: FetchHandler, options?: NodeEdgeOptions): Promise<string> {
  const node = createNodeServer(handler, options);
  const url = await node.listen(0, '127.0.0.1');
  closers.push(() => node.drain(0));
  return url;
}

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request through node:http (no fetch client): exact headers in and out. */
function raw(url: string, opts: http.RequestOptions & { body?: string | Buffer } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Echoes what the handler saw. */
const echo = async (request: Request, info?: RequestInfo) =>
  Response.json({
    method: request.method,
    url: request.url,
    isRequest: request instanceof Request,
    body: request.body === null ? null : await request.text(),
    multi: request.headers.get('x-multi'),
    has: request.headers.has('x-multi'),
    remote: info?.remoteAddress,
    buffered: info?.body ? Buffer.from(info.body).toString() : null,
  });

describe('node edge: requests', () => {
  const variants: Record<string, FetchHandler> = {
    real: (r, i) => echo(r, i),
    lazy: acceptLazyRequests((r: Request, i: RequestInfo) => echo(r, i)),
  };

  it.each(Object.keys(variants))(
    'edge (%s): method, url, headers (duplicates joined with ", "), body, peer address',
    async (name) => {
      const url = await serve(variants[name]!);
      const get = JSON.parse(
        (await raw(`${url}/a/../p?q=1 2`, { headers: { 'x-multi': ['a', 'b'] } })).body,
      ) as Record<string, unknown>;
      expect(get).toEqual({
        method: 'GET',
        url: `${url}/p?q=1%202`,
        isRequest: true,
        body: null,
        multi: 'a, b',
        has: true,
        remote: '127.0.0.1',
        buffered: null,
      });
      const post = JSON.parse((await raw(`${url}/x`, { method: 'POST', body: 'hello' })).body) as Record<
        string,
        unknown
      >;
      expect(post).toMatchObject({ method: 'POST', body: 'hello', has: false, multi: null });
    },
  );

  it('edge: bufferBodyBytes hands small bodies over as info.body (the request carries them too); larger ones stream', async () => {
    const url = await serve((r, i) => echo(r, i), { bufferBodyBytes: 8 });
    const small = JSON.parse((await raw(`${url}/`, { method: 'POST', body: 'tiny' })).body) as Raw & {
      buffered: string;
    };
    expect(small).toMatchObject({ body: 'tiny', buffered: 'tiny' });
    const big = JSON.parse((await raw(`${url}/`, { method: 'POST', body: 'far too long' })).body) as Raw;
    expect(big).toMatchObject({ body: 'far too long', buffered: null });
  });

  it('edge (lazy): realRequest() and header changes carry into the real request', async () => {
    const url = await serve(
      acceptLazyRequests(async (r: Request) => {
        r.headers.set('x-added', '1');
        const real = realRequest(r);
        return Response.json({
          same: realRequest(r) === real,
          added: real.headers.get('x-added'),
          body: await real.text(),
        });
      }),
    );
    expect(JSON.parse((await raw(`${url}/`, { method: 'POST', body: 'b' })).body)).toEqual({
      same: true,
      added: '1',
      body: 'b',
    });
  });

  it('edge: toNodeListener keeps a mount prefix (Express originalUrl) and uses a fixed origin when given', async () => {
    const listener = toNodeListener((r) => new Response(r.url), { origin: 'https://as.example' });
    const server = http.createServer((req, res) => {
      // What Express does under app.use('/auth', listener).
      const mounted = Object.assign(req, { originalUrl: req.url, url: req.url!.slice('/auth'.length) });
      listener(mounted, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as net.AddressInfo;
    expect((await raw(`http://127.0.0.1:${port}/auth/token?x=1`)).body).toBe(
      'https://as.example/auth/token?x=1',
    );
  });

  it('edge: a Host header no URL accepts is 400 from the edge; errorResponse shapes the body', async () => {
    const url = await serve(() => new Response('never'));
    const res = await raw(`${url}/`, { headers: { host: 'bad host:x' } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      error: 'invalid_request',
      error_description: 'invalid Host header',
    });
    const shaped = await serve(() => new Response('never'), {
      errorResponse: (status, message) => Response.json({ message }, { status }),
    });
    expect(JSON.parse((await raw(`${shaped}/`, { headers: { host: 'bad host:x' } })).body)).toEqual({
      message: 'invalid Host header',
    });
  });
});

describe('node edge: responses', () => {
  it('edge: a known body goes with Content-Length, a streamed one chunked; every Set-Cookie stays apart', async () => {
    const url = await serve((r) => {
      if (r.url.endsWith('/known')) {
        const h = new Headers({ 'content-type': 'text/plain' });
        h.append('set-cookie', 'a=1');
        h.append('set-cookie', 'b=2; Path=/');
        return bodyResponse('héllo', { headers: h });
      }
      return new Response(new Blob(['streamed']).stream());
    });
    const known = await raw(`${url}/known`);
    expect(known.headers['content-length']).toBe(String(Buffer.byteLength('héllo')));
    expect(known.headers['set-cookie']).toEqual(['a=1', 'b=2; Path=/']);
    expect(known.body).toBe('héllo');
    const streamed = await raw(`${url}/stream`);
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    expect(streamed.body).toBe('streamed');
  });

  it('edge: a lazy response goes out from its header record with Content-Length; headers set on it count', async () => {
    const url = await serve(() => {
      const r = lazyResponse('{"ok":true}', { status: 201, headers: { 'content-type': 'application/json' } });
      expect([r instanceof Response, r.status, r.ok]).toEqual([true, 201, true]);
      r.headers.set('x-request-id', 'r1');
      return r;
    });
    const res = await raw(url);
    expect([res.status, res.headers['content-length'], res.headers['x-request-id'], res.body]).toEqual([
      201,
      '11',
      'r1',
      '{"ok":true}',
    ]);
  });

  it('lazy response: headers added to its record build no Headers, never change a shared record, and reach the wire', async () => {
    const shared = { 'content-type': 'application/json' };
    const url = await serve(() => {
      const r = lazyResponse('{}', { headers: shared });
      expect(addLazyHeaders(r, { 'X-Request-Id': 'r2' })).toBe(true);
      expect(unbuiltResponse(r)?.realHeaders).toBeUndefined();
      expect([responseHeader(r, 'x-request-id'), responseHeader(r, 'content-type')]).toEqual([
        'r2',
        'application/json',
      ]);
      return r;
    });
    const res = await raw(url);
    expect([res.headers['x-request-id'], res.headers['content-type']]).toEqual(['r2', 'application/json']);
    expect(shared).toEqual({ 'content-type': 'application/json' });
    // Once its Headers exist (or for any other response) nothing is added here: the caller sets them.
    const asked = lazyResponse('{}');
    asked.headers.set('x-a', '1');
    expect(addLazyHeaders(asked, { 'x-b': '2' })).toBe(false);
    expect([responseHeader(asked, 'x-a'), responseHeader(asked, 'x-b')]).toEqual(['1', null]);
    const real = new Response('x', { headers: { 'x-c': '3' } });
    expect([addLazyHeaders(real, { 'x-d': '4' }), responseHeader(real, 'x-c')]).toEqual([false, '3']);
  });

  it('edge: a pushed body is written as it comes (headers first), and a client that leaves cancels it', async () => {
    let sink!: PushSink;
    let cancelled!: () => void;
    const gone = new Promise<void>((r) => (cancelled = r));
    const url = await serve(() =>
      lazyResponse(
        { attach: (s) => (sink = s), cancel: () => cancelled() },
        { headers: { 'content-type': 'text/event-stream' } },
      ),
    );
    const controller = new AbortController();
    const res = await fetch(url, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    sink.write(new TextEncoder().encode('data: 1\n\n'));
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: 1\n\n');
    controller.abort();
    await gone;
  });

  it('lazy response: read by anyone but the edge it is a real Response, a pushed body a stream', async () => {
    const known = lazyResponse('text', { headers: { 'x-a': '1' } });
    expect([await known.text(), known.bodyUsed, known.headers.get('x-a')]).toEqual(['text', true, '1']);
    const pushed = lazyResponse({
      attach(s) {
        s.write(new TextEncoder().encode('a'));
        s.write(new TextEncoder().encode('b'));
        s.end();
      },
      cancel() {},
    });
    expect(await pushed.text()).toBe('ab');
  });

  it('edge: HEAD gets the headers (Content-Length of a known body) and no body', async () => {
    const url = await serve(() => bodyResponse('12345', { headers: { 'content-type': 'text/plain' } }));
    const res = await raw(`${url}/`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('5');
    expect(res.body).toBe('');
  });

  it('edge: a handler that throws or rejects answers 500 server_error without details, and onError is told', async () => {
    const errors: unknown[] = [];
    const url = await serve(
      (r) => {
        if (r.url.endsWith('/throw')) throw new Error('secret detail');
        return Promise.reject(new Error('secret detail'));
      },
      { onError: (err) => errors.push(err) },
    );
    for (const path of ['/throw', '/reject']) {
      const res = await raw(`${url}${path}`);
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body)).toEqual({ error: 'server_error', error_description: 'internal error' });
    }
    expect(errors).toHaveLength(2);
  });

  it('edge: an event stream shows its headers before the first event', async () => {
    let send!: () => void;
    const url = await serve(() => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          send = () => {
            c.enqueue(new TextEncoder().encode('data: 1\n\n'));
            c.close();
          };
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    send();
    expect(await res.text()).toBe('data: 1\n\n');
  });
});

describe('node edge: late responses', () => {
  it('edge: nothing is written until a late body settles; then its status and body, its headers under those added before', async () => {
    let late!: LateAnswer;
    const seen: boolean[] = [];
    const url = await serve((request, info) => {
      if (request.url.endsWith('/other')) return new Response('other');
      seen.push(info.lateResponses === true);
      late = new LateAnswer(() => {});
      const r = lazyResponse(late, { headers: { 'x-added': 'kept' } });
      addLazyHeaders(r, { 'x-request-id': 'r9' });
      return r;
    });
    let head = false;
    const res = new Promise<Raw>((resolve, reject) => {
      const req = http.request(url, (r) => {
        head = true;
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
    await vi.waitFor(() => expect(late).toBeDefined());
    // A round trip on the same server: had the head of the late one been written, it would be here by now.
    expect((await raw(`${url}/other`)).body).toBe('other');
    expect(head).toBe(false);
    late.settle({
      status: 404,
      headers: { 'content-type': 'application/json', 'x-added': 'from-the-answer' },
      body: '{"error":1}',
    });
    const r = await res;
    expect([r.status, r.headers['content-type'], r.headers['content-length']]).toEqual([
      404,
      'application/json',
      '11',
    ]);
    expect([r.headers['x-added'], r.headers['x-request-id'], r.body]).toEqual(['kept', 'r9', '{"error":1}']);
    expect(seen[0]).toBe(true);
  });

  it('edge: a late body may settle as an event stream, written as it comes', async () => {
    let late!: LateAnswer;
    let sink!: PushSink;
    const url = await serve(() => lazyResponse((late = new LateAnswer(() => {}))));
    const pending = fetch(url);
    await vi.waitFor(() => expect(late).toBeDefined());
    late.settle({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { attach: (s) => (sink = s), cancel: () => {} },
    });
    const res = await pending;
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    sink.write(new TextEncoder().encode('data: 1\n\n'));
    sink.end();
    expect(await res.text()).toBe('data: 1\n\n');
  });

  it('edge: a client that leaves before a late body settles cancels it once; settling afterwards writes nothing', async () => {
    let late!: LateAnswer;
    let cancels = 0;
    const url = await serve(() => lazyResponse((late = new LateAnswer(() => cancels++))));
    const controller = new AbortController();
    const pending = fetch(url, { signal: controller.signal }).catch((err: Error) => err.name);
    await vi.waitFor(() => expect(late).toBeDefined());
    controller.abort();
    expect(await pending).toBe('AbortError');
    await vi.waitFor(() => expect(cancels).toBe(1));
    late.cancel();
    late.settle({ status: 499, headers: {}, body: null });
    expect(cancels).toBe(1);
  });

  it('late response: status is provisional until it settles; whenSettled waits for it; read early it throws, not lies', async () => {
    const late = new LateAnswer(() => {});
    const r = lazyResponse(late, { status: 200 });
    const told: number[] = [];
    whenSettled(r, (s) => told.push(s));
    whenSettled(new Response('x', { status: 201 }), (s) => told.push(s));
    expect(told).toEqual([201]);
    expect(() => r.clone()).toThrow(TypeError);
    late.settle({ status: 404, headers: { 'content-type': 'text/plain' }, body: 'missing' });
    late.settle({ status: 200, headers: {}, body: 'ignored' });
    expect(told).toEqual([201, 404]);
    expect([r.status, r.ok, r.headers.get('content-type'), await r.text()]).toEqual([
      404,
      false,
      'text/plain',
      'missing',
    ]);
    whenSettled(r, (s) => told.push(s));
    expect(told).toEqual([201, 404, 404]);
  });

  it('mergedHeaders: a new record, the second one winning, neither input changed', () => {
    const base = { 'content-type': 'application/json', 'x-a': 'base' };
    const over = { 'x-a': 'over', 'x-request-id': 'r1' };
    const out = mergedHeaders(base, over);
    expect(out).toEqual({ 'content-type': 'application/json', 'x-a': 'over', 'x-request-id': 'r1' });
    out['content-length'] = '2';
    expect([base, over]).toEqual([
      { 'content-type': 'application/json', 'x-a': 'base' },
      { 'x-a': 'over', 'x-request-id': 'r1' },
    ]);
    expect(mergedHeaders(base)).toEqual(base);
    expect(mergedHeaders(base)).not.toBe(base);
  });

  it('late answer: the last reader to ask (the edge) is told at once, the bookkeeping it passed through after it', async () => {
    const late = new LateAnswer(() => {});
    const order: string[] = [];
    late.settled(() => order.push('bridge counter'));
    late.settled(() => order.push('access line'));
    late.settled(() => order.push('edge'));
    expect(late.peek()).toBeUndefined();
    late.settle({ status: 200, headers: {}, body: null });
    expect(order).toEqual(['edge']);
    await Promise.resolve();
    expect(order).toEqual(['edge', 'access line', 'bridge counter']);
    expect(late.peek()?.status).toBe(200);
  });
});

describe('node edge: a client that stops reading', () => {
  it('edge: a pushed body past maxQueuedBytes for a paused client is cancelled and the connection cut; another client gets all of its stream', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const limit = 64 * 1024 * 1024;
    let pushed = 0;
    let cut!: (cancelledAfter: number) => void;
    const cancelled = new Promise<number>((r) => (cut = r));
    const url = await serve((request) => {
      if (new URL(request.url).pathname === '/other') {
        return lazyResponse(
          {
            attach(s) {
              for (let i = 0; i < 3; i++) s.write(new TextEncoder().encode(`data: ${i}\n\n`));
              s.end();
            },
            cancel() {},
          },
          { headers: { 'content-type': 'text/event-stream' } },
        );
      }
      let stopped = false;
      return lazyResponse(
        {
          maxQueuedBytes: 1024 * 1024,
          attach(s) {
            // Streams as fast as the event loop turns, until cancelled (or far past any sane bound).
            const pump = () => {
              if (stopped || pushed >= limit) return;
              s.write(chunk);
              pushed += chunk.byteLength;
              setImmediate(pump);
            };
            pump();
          },
          cancel() {
            stopped = true;
            cut(pushed);
          },
        },
        { headers: { 'content-type': 'text/event-stream' } },
      );
    });
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', r));
    socket.write(`GET /stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    socket.pause(); // never reads: the kernel's buffers fill, then node's
    socket.on('error', () => {});
    const after = await Promise.race([
      cancelled,
      new Promise<number>((r) => {
        const check = setInterval(() => pushed >= limit && (clearInterval(check), r(-1)), 20);
        void cancelled.then(() => clearInterval(check));
      }),
    ]);
    // Cut once 1 MiB waited in the server (what it pushed beyond sits in the kernel's socket buffers).
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(limit);
    socket.destroy();
    // Another client of the same server is served as usual.
    const other = await raw(new URL('/other', url).href);
    expect(other.body).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
  });

  it('lazy response: read as a stream by a reader that never reads, a pushed body past maxQueuedBytes errors the stream and is cancelled', async () => {
    let cancelled = 0;
    let sink!: PushSink;
    const response = lazyResponse({
      maxQueuedBytes: 1000,
      attach: (s) => (sink = s),
      cancel: () => cancelled++,
    });
    const reader = response.body!.getReader();
    sink.write(new Uint8Array(600));
    sink.write(new Uint8Array(600)); // one chunk past the cap is taken (a message of any size passes)
    expect(cancelled).toBe(0);
    sink.write(new Uint8Array(600));
    expect(cancelled).toBe(1);
    sink.write(new Uint8Array(600)); // nothing more is queued
    await expect(reader.read()).rejects.toThrow(/more than 1000 bytes queued/);
  });
});

describe('node edge: client abort and drain', () => {
  it('edge: a client that leaves aborts info.signal (and request.signal) and cancels the response body', async () => {
    const seen = { info: false, request: false, cancelled: false };
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const url = await serve((request, info) => {
      info.signal!.addEventListener('abort', () => (seen.info = true));
      request.signal.addEventListener('abort', () => (seen.request = true));
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('data: open\n\n'));
        },
        cancel() {
          seen.cancelled = true;
          done();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    const controller = new AbortController();
    const res = await fetch(url, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await finished;
    expect(seen).toEqual({ info: true, request: true, cancelled: true });
  });

  it('edge: drain lets an in-flight request finish, refuses new connections, and keep-alive is 65 s', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const node = createNodeServer(async () => {
      started();
      await gate;
      return new Response('finished');
    });
    expect(node.server.keepAliveTimeout).toBe(65_000);
    expect(node.server.headersTimeout).toBeGreaterThan(65_000);
    const url = await node.listen(0, '127.0.0.1');
    const answer = raw(url);
    await running;
    expect(node.inFlight).toBe(1);
    const drained = node.drain(10_000);
    release();
    expect((await answer).body).toBe('finished');
    await drained;
    const port = Number(new URL(url).port);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
