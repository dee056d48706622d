import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventStore, formatEventId, parseEventId } from '../src/event-store.js';
import { hostnameOf, isJsonMediaType, isLoopbackHost } from '../src/http-handler.js';
import { classify } from '../src/jsonrpc.js';
import { BridgeMetrics } from '../src/metrics.js';
import { SseSink } from '../src/sse.js';
import { LineSplitter } from '@mcp-gateway/internal/line-splitter';
import { isSupportedProtocolVersion, supportsPrimingEvents } from '../src/protocol-version.js';

function split(chunks: Buffer[], max = 1 << 20) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const s = new LineSplitter(
    max,
    (l) => lines.push(l.toString('utf8')),
    (n) => overflows.push(n),
  );
  for (const c of chunks) s.push(c);
  s.end();
  return { lines, overflows };
}

/** Cuts `buf` at the given (sorted, deduplicated) offsets. */
function cut(buf: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('framing (LineSplitter)', () => {
  it('framing: lines come out whole however the bytes are chunked, multi-byte characters included', () => {
    const line = fc.string({
      unit: fc.constantFrom('a', 'é', '✓', '😀', ' ', '"', '{'),
      minLength: 1,
      maxLength: 30,
    });
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (lines, at) => {
          const bytes = Buffer.from(lines.join('\n') + '\n');
          expect(split(cut(bytes, at)).lines).toEqual(lines.filter((l) => l.length > 0));
        },
      ),
    );
  });

  it('framing: CRLF endings are trimmed and stray CR become spaces', () => {
    expect(split([Buffer.from('{"a":1}\r\n{"b":\r2}\n')]).lines).toEqual(['{"a":1}', '{"b": 2}']);
  });

  it('framing: a line over the cap is dropped and the next line still frames', () => {
    const { lines, overflows } = split(
      [Buffer.from('x'.repeat(50)), Buffer.from('y'.repeat(50) + '\nok\n')],
      64,
    );
    expect(lines).toEqual(['ok']);
    expect(overflows).toEqual([100]);
    expect(split([Buffer.from('z'.repeat(100) + '\nfine\n')], 64)).toEqual({
      lines: ['fine'],
      overflows: [100],
    });
  });
});

describe('event store', () => {
  it('resumability: replay returns the events of one stream after a sequence number, in order', () => {
    const s = new EventStore({ maxEvents: 100, maxBytes: 1 << 20 });
    for (let i = 1; i <= 4; i++) {
      s.append(1, i, Buffer.from(`a${i}`));
      s.append(2, i, Buffer.from(`b${i}`));
    }
    const got: string[] = [];
    expect(
      s.replayAfter(1, 2, (e) => void got.push(`${formatEventId(e.stream, e.seq)}=${e.data.toString()}`)),
    ).toBe(2);
    expect(got).toEqual(['1-3=a3', '1-4=a4']);
  });

  it('resumability: the store is bounded in events and in bytes, oldest first', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 300 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 2000 }),
        (sizes, maxEvents, maxBytes) => {
          const s = new EventStore({ maxEvents, maxBytes });
          sizes.forEach((n, i) => s.append(0, i + 1, Buffer.alloc(n)));
          expect(s.size).toBeLessThanOrEqual(maxEvents);
          expect(s.byteSize).toBeLessThanOrEqual(Math.max(maxBytes, 0));
          const kept: number[] = [];
          s.replayAfter(0, 0, (e) => void kept.push(e.seq));
          // What is kept is a suffix of what was appended.
          expect(kept).toEqual(sizes.map((_, i) => i + 1).slice(sizes.length - kept.length));
        },
      ),
    );
  });

  it('resumability: event ids round-trip and malformed ones are refused', () => {
    expect(parseEventId(formatEventId(12, 345))).toEqual({ stream: 12, seq: 345 });
    for (const bad of ['', '1', '1-', '-1', 'a-1', '1-1-1', '1-x', ' 1-1'])
      expect(parseEventId(bad)).toBeUndefined();
  });
});

describe('message and header rules', () => {
  it('json-rpc: messages are classified by shape only', () => {
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toMatchObject({
      kind: 'request',
      id: 1,
    });
    expect(classify({ jsonrpc: '2.0', method: 'notifications/initialized' })).toMatchObject({
      kind: 'notification',
    });
    expect(classify({ jsonrpc: '2.0', id: 'x', result: {} })).toMatchObject({ kind: 'response', id: 'x' });
    expect(classify({ jsonrpc: '2.0', id: null, error: { code: 1, message: 'm' } })).toMatchObject({
      kind: 'response',
      id: null,
    });
    for (const bad of [
      null,
      1,
      'x',
      [],
      { id: 1, method: 'a' },
      { jsonrpc: '2.0', id: {}, method: 'a' },
      { jsonrpc: '2.0', id: 1 },
      { jsonrpc: '2.0', method: 5 },
    ]) {
      expect(classify(bad)).toBeUndefined();
    }
  });

  it('transport: protocol versions and priming support live in one module', () => {
    expect(isSupportedProtocolVersion('2025-11-25')).toBe(true);
    expect(isSupportedProtocolVersion('2025-03-26')).toBe(true);
    expect(isSupportedProtocolVersion('2030-01-01')).toBe(false);
    expect(supportsPrimingEvents('2025-11-25')).toBe(true);
    expect(supportsPrimingEvents('2025-06-18')).toBe(false);
  });

  it('security: loopback hosts and JSON media types are recognised exactly', () => {
    expect(['localhost', '127.0.0.1', '127.1.2.3', '::1'].every(isLoopbackHost)).toBe(true);
    expect(
      ['localhost.evil.example', '128.0.0.1', '0.0.0.0', '127.0.0.1.evil', ''].some(isLoopbackHost),
    ).toBe(false);
    expect(hostnameOf('[::1]:3000')).toBe('::1');
    expect(hostnameOf('LocalHost:80')).toBe('localhost');
    expect(isJsonMediaType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonMediaType('application/json-patch+json')).toBe(false);
    expect(isJsonMediaType('text/json')).toBe(false);
  });
});

describe('metrics', () => {
  it('http requests: methods outside the fixed set are counted as OTHER (label series stay bounded)', () => {
    const m = new BridgeMetrics();
    for (const method of ['GET', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PUT', 'PATCH'])
      m.countHttp(method, 200);
    for (let i = 0; i < 50; i++) m.countHttp(`X-METHOD-${i}`, 405);
    m.countHttp('get', 405);
    m.countHttp('PROPFIND', 405);
    const text = m.render({ sessions: 0, pool: 0, warm: 0, maxSessions: 1, maxSessionsPerUser: 0 });
    const lines = text.split('\n').filter((l) => l.startsWith('mcp_bridge_http_requests_total{'));
    expect(lines).toEqual([
      'mcp_bridge_http_requests_total{method="GET",status="200"} 1',
      'mcp_bridge_http_requests_total{method="POST",status="200"} 1',
      'mcp_bridge_http_requests_total{method="DELETE",status="200"} 1',
      'mcp_bridge_http_requests_total{method="OPTIONS",status="200"} 1',
      'mcp_bridge_http_requests_total{method="HEAD",status="200"} 1',
      'mcp_bridge_http_requests_total{method="PUT",status="200"} 1',
      'mcp_bridge_http_requests_total{method="PATCH",status="200"} 1',
      'mcp_bridge_http_requests_total{method="OTHER",status="405"} 52',
    ]);
  });
});

describe('SSE sink', () => {
  it('stream queue cap: bytes waiting for an edge that never attaches are bounded by maxQueuedBytes; past it the sink closes, its queue freed, its owner told', () => {
    const cancelled: SseSink[] = [];
    const sink = new SseSink(0, (s) => cancelled.push(s), 1000);
    expect(sink.maxQueuedBytes).toBe(1000);
    sink.writeMessage(Buffer.alloc(400, 0x61), undefined, 0);
    sink.writeMessage(Buffer.alloc(400, 0x61), undefined, 0);
    sink.writeMessage(Buffer.alloc(400, 0x61), undefined, 0); // one message past the cap is taken
    expect([sink.open, cancelled.length]).toEqual([true, 0]);
    sink.writeMessage(Buffer.alloc(400, 0x61), undefined, 0);
    expect([sink.open, cancelled]).toEqual([false, [sink]]);
    const written: Uint8Array[] = [];
    let ended = false;
    sink.attach({ write: (b) => void written.push(b), end: () => void (ended = true) });
    // A response attached after the cut ends at once (its reader sees the end and may resume).
    expect([written, ended]).toEqual([[], true]);
    expect(new SseSink(0, () => {}).maxQueuedBytes).toBe(8 * 1024 * 1024);
  });
});
