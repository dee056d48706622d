// Per-tool policy on raw MCP requests through the gateway (issue 20): JSON-RPC batches of
// 2025-03-26 sessions and tools/list answers as JSON and as event streams, to a real stdio child.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureMcpServerCommand, rawSession, request2026 } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { issueToken } from '../../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { createNodeServer, type NodeServer } from '../../src/http/node.js';
import { createLogger } from '../../src/ops/logger.js';
import { policies, users } from './policy-fixtures.js';

let gw: Gateway;
let server: NodeServer;
let base: string;
let recordFile: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  recordFile = join(mkdtempSync(join(tmpdir(), 'policy-batches-')), 'record.txt');
  writeFileSync(recordFile, '');
  const { config } = resolveConfig(
    {
      issuer: 'http://127.0.0.1',
      store: { type: 'memory' },
      idp: { type: 'local', users },
      services: {
        fixture: { type: 'stdio', ...fixtureMcpServerCommand(), env: { FIXTURE_RECORD_FILE: recordFile } },
      },
      policies: { services: { fixture: policies.services.fixture } },
    },
    { env: {} },
  );
  gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  server = createNodeServer(gw.fetch);
  base = await server.listen(0, '127.0.0.1');
  for (const user of ['alice', 'bob']) tokens[user] = (await issueToken(gw, user, 'fixture')).access_token;
});

afterAll(async () => {
  await server?.drain(0);
  await gw?.close(0);
});

const auth = (who: 'alice' | 'bob', _service: 'fixture') => ({ authorization: `Bearer ${tokens[who]}` });
const recorded = () => readFileSync(recordFile, 'utf8').split('\n').filter(Boolean);

/** Opens a 2025 session (by default 2025-03-26, where batches are allowed) on the fixture service as alice. */
const session2025 = (version = '2025-03-26') => rawSession(`${base}/fixture/mcp`, tokens.alice!, version);

/** A JSON-RPC response as these tests read it. */
interface Answer {
  id: unknown;
  result?: { tools?: Array<{ name: string }>; content?: Array<{ text: string }> };
  error?: { code: number; data?: unknown };
}

/** The JSON-RPC messages of an answer, JSON or an event stream. */
async function messagesOf(res: Response): Promise<Answer[]> {
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('event-stream')) {
    const json = JSON.parse(text) as unknown;
    return (Array.isArray(json) ? json : [json]) as never;
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .flatMap((l) => {
      const json = JSON.parse(l.slice(5)) as unknown;
      return (Array.isArray(json) ? json : [json]) as never;
    });
}

describe('per-tool policy in JSON-RPC batches (2025-03-26)', () => {
  it('a batch: the refused call is answered by the gateway and not forwarded, the rest is served and lists are filtered', async () => {
    const session = await session2025();
    // `add` is allowed as a read-only tool: the gateway knows it is one from a list that passed through.
    const first = await fetch(`${base}/fixture/mcp`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'tools/list' }),
    });
    await first.text();
    const tag = `batch-${Date.now()}`;
    const res = await fetch(`${base}/fixture/mcp`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'record', arguments: { text: tag, path: '/etc' } },
        },
        { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } },
      ]),
    });
    expect(res.status).toBe(200);
    const byId = new Map((await messagesOf(res)).map((m) => [m.id, m]));
    expect(byId.get(2)?.error).toMatchObject({
      code: -32010,
      data: { tool: 'record', reason: 'not allowed by policy' },
    });
    expect(byId.get(3)?.result?.content?.[0]?.text).toBe('5');
    const listed = byId.get(1)!.result!.tools!.map((t) => t.name);
    expect(listed).toContain('echo');
    expect(listed).not.toContain('crash');
    expect(recorded()).not.toContain(tag);
  });

  it('a batch of refused calls only: a JSON array of PolicyDenied errors, nothing forwarded', async () => {
    const session = await session2025();
    const res = await fetch(`${base}/fixture/mcp`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'crash', arguments: {} } },
        { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'slow', arguments: { ms: 1 } } },
      ]),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Array<{ id: string; error: { code: number } }>;
    expect(body.map((m) => [m.id, m.error.code])).toEqual([
      ['a', -32010],
      ['b', -32010],
    ]);
  });
});

describe('read-only marking', () => {
  it('before any tools/list passed through, no tool counts as read-only (refused); after one, it is allowed', async () => {
    const { config } = resolveConfig(
      {
        issuer: 'http://127.0.0.1',
        store: { type: 'memory' },
        idp: { type: 'local', users },
        services: { fixture: { type: 'stdio', ...fixtureMcpServerCommand() } },
        policies: {
          services: { fixture: { default: 'deny', rules: [{ effect: 'allow', readOnly: true }] } },
        },
      },
      { env: {} },
    );
    const fresh = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
    try {
      const token = (await issueToken(fresh, 'alice', 'fixture')).access_token;
      const post = async (body: { method: string; params?: Record<string, unknown> }) => {
        const { headers, body: text } = request2026(body.method, body.params, { accept: 'application/json' });
        return (await (
          await fresh.fetch(
            new Request('http://127.0.0.1/fixture/mcp', {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, ...headers },
              body: text,
            }),
          )
        ).json()) as {
          result?: { tools?: unknown[]; content?: Array<{ text: string }> };
          error?: { code: number };
        };
      };
      const call = { method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 1 } } };
      expect((await post(call)).error?.code).toBe(-31010);
      expect((await post({ method: 'tools/list' })).result?.tools?.length).toBeGreaterThan(0);
      const again = await post(call);
      expect(again.result?.content?.[0]?.text, JSON.stringify(again)).toBe('2');
      // Not annotated read-only: still refused.
      const pid = await post({ method: 'tools/call', params: { name: 'pid', arguments: {} } });
      expect(pid.error?.code).toBe(-31010);
    } finally {
      await fresh.close(0);
    }
  });
});

describe('tools/list answers in either shape, filtered', () => {
  const hiddenFromAll = ['crash', 'grandchild', 'garbage'];

  it('a JSON answer (2026-07-28 request accepting JSON only) to a stdio service', async () => {
    const { headers, body } = request2026('tools/list', {}, { id: 5, accept: 'application/json' });
    const res = await fetch(`${base}/fixture/mcp`, {
      method: 'POST',
      headers: { ...auth('bob', 'fixture'), ...headers },
      body,
    });
    expect(res.headers.get('content-type')).toContain('application/json');
    const listed = (await messagesOf(res))[0]!.result!.tools!.map((t) => t.name);
    expect(listed).toContain('echo');
    for (const hidden of ['record', ...hiddenFromAll]) expect(listed).not.toContain(hidden);
  });

  it('an event stream (2025 session) from a stdio service', async () => {
    const session = await session2025();
    const res = await fetch(`${base}/fixture/mcp`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list' }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const listed = (await messagesOf(res))[0]!.result!.tools!.map((t) => t.name);
    expect(listed).toContain('record');
    for (const hidden of hiddenFromAll) expect(listed).not.toContain(hidden);
  });

  it('a resumed stream (GET with Last-Event-ID, 2025-11-25) replays the tools/list answer filtered too', async () => {
    const session = await session2025('2025-11-25');
    const res = await fetch(`${base}/fixture/mcp`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/list' }),
    });
    const text = await res.text();
    // The priming event (an id, empty data) comes before the answer.
    const primingId = /^id: (.+)$/m.exec(text)?.[1];
    expect(primingId, text).toBeDefined();
    const resumed = await fetch(`${base}/fixture/mcp`, {
      method: 'GET',
      headers: { ...session, accept: 'text/event-stream', 'last-event-id': primingId! },
    });
    expect(resumed.status).toBe(200);
    const reader = resumed.body!.getReader();
    const decoder = new TextDecoder();
    let replay = '';
    while (!/"tools":\[.*\n\n/s.test(replay)) {
      const { done, value } = await reader.read();
      if (done) break;
      replay += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    const data = replay.split('\n').find((l) => l.startsWith('data:') && l.includes('"tools"'));
    const listed = (JSON.parse(data!.slice(5)) as Answer).result!.tools!.map((t) => t.name);
    expect(listed).toContain('echo');
    for (const hidden of hiddenFromAll) expect(listed).not.toContain(hidden);
  });
});
