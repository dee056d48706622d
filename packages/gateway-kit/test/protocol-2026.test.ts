// MCP 2026-07-28 (stateless) clients through the gateway, beside 2025 sessions:
// real gateway on 127.0.0.1 (node:http with its fast path), real stdio children,
// the in-process fetch service and an `http` service in front of a real fetch-server.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createFetchServer } from '@mcp-gateway/fetch-server';
import { fixtureMcpServerCommand, listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway/create.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { listeningGateway } from './helpers/listening.js';

const V2026 = '2026-07-28';
const SERVICES = ['fetch', 'fixture', 'upstream'] as const;
type Service = (typeof SERVICES)[number];

let gw: Gateway;
let base: string;
/** The same gateway mounted as a plain fetch handler (no node:http fast path). */
let viaFetch: Listening;
let page: Listening;
let upstream: Listening;
/** Requests the `http` service's upstream received. */
let upstreamRequests = 0;
const tokens: Record<'alice' | 'bob', Record<string, string>> = { alice: {}, bob: {} };

beforeAll(async () => {
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  const fetchServer = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true });
  upstream = await listen((request) => {
    upstreamRequests++;
    return fetchServer(request);
  });
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      fixture: { type: 'stdio', ...fixtureMcpServerCommand() },
      upstream: { type: 'http', url: `${upstream.url}/mcp` },
    },
  }));
  for (const user of ['alice', 'bob'] as const) {
    await gw.users.put(user, `${user}-password-1`);
    for (const s of SERVICES) tokens[user][s] = (await issueToken(gw, user, s)).access_token;
  }
  viaFetch = await listen((request) => gw.fetch(request));
});

// The gateway closes after the file (listeningGateway); the servers around it here.
afterAll(async () => {
  await viaFetch?.close();
  await upstream?.close();
  await page?.close();
});

/** Every request and response header name the client's transport saw. */
function recordingFetch(seen: Set<string>): typeof fetch {
  return async (input, init) => {
    new Headers(init?.headers).forEach((_v, k) => seen.add(k));
    const res = await fetch(input, init);
    res.headers.forEach((_v, k) => seen.add(k));
    return res;
  };
}

/** An MCP SDK 2.x client (elicitation answered with `name`) connected to a service as a user. */
async function sdk2(
  service: Service,
  mode: 'auto' | { pin: string },
  opts: { user?: 'alice' | 'bob'; name?: string; seen?: Set<string>; base?: string } = {},
) {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { capabilities: { elicitation: {} }, versionNegotiation: { mode } },
  );
  client.setRequestHandler('elicitation/create', async () => ({
    action: 'accept',
    content: { name: opts.name ?? 'SDK2' },
  }));
  await client.connect(
    new TransportV2(new URL(`${opts.base ?? base}/${service}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${tokens[opts.user ?? 'alice'][service]}` } },
      ...(opts.seen ? { fetch: recordingFetch(opts.seen) } : {}),
    }),
  );
  return client;
}

const textOf = (r: object) => (r as { content: Array<{ text: string }> }).content[0]!.text;

/** A raw POST of one JSON-RPC message to a service as alice; a `null` header is left out. */
function rawPost(service: Service, message: unknown, headers: Record<string, string | null> = {}) {
  const all: Record<string, string | null> = {
    authorization: `Bearer ${tokens.alice[service]}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...headers,
  };
  const sent = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== null));
  return fetch(`${base}/${service}/mcp`, { method: 'POST', headers: sent, body: JSON.stringify(message) });
}

/** A 2026-07-28 request (envelope and mirrored headers as a client sends them, id 7); `headers` override. */
async function post2026(
  service: Service,
  body: { method: string; params?: Record<string, unknown> },
  headers: Record<string, string | null> = {},
) {
  const { message, headers: mirrored } = request2026(body.method, body.params, {
    id: 7,
    meta: body.params?._meta as Record<string, unknown> | undefined,
  });
  const res = await rawPost(service, message, { ...mirrored, ...headers });
  return {
    res,
    json: (await res.json()) as {
      result?: Record<string, unknown>;
      error?: { code: number; data?: unknown };
    },
  };
}

describe('2026-07-28: MCP SDK 2.x clients reach every service type through the gateway', () => {
  it.each([
    ['pinned to 2026-07-28', { pin: V2026 } as const],
    ['in auto mode', 'auto' as const],
  ])(
    '%s: the fetch service, the http service and a stdio service (its elicitation tool by MRTR), no session anywhere',
    async (_w, mode) => {
      const seen = new Set<string>();
      for (const service of ['fetch', 'upstream'] as const) {
        const client = await sdk2(service, mode, { seen });
        try {
          expect(client.getProtocolEra()).toBe('modern');
          expect((await client.listTools()).tools.map((t) => t.name)).toContain('fetch');
          const r = await client.callTool({ name: 'fetch', arguments: { url: `${page.url}/` } });
          expect(textOf(r)).toContain('hello from the page');
        } finally {
          await client.close();
        }
      }
      const client = await sdk2('fixture', mode, { seen, name: 'Ada' });
      try {
        expect(client.getProtocolEra()).toBe('modern');
        expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via 2026' } }))).toBe(
          'via 2026',
        );
        const hello = await client.callTool({ name: 'elicit', arguments: { message: 'name?' } });
        expect(textOf(hello)).toBe('hello Ada');
      } finally {
        await client.close();
      }
      expect(seen.has('mcp-protocol-version')).toBe(true);
      expect(seen.has('mcp-session-id')).toBe(false);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('mcp_gateway_stdio_sessions{service="fixture"} 0');
    },
  );
});

describe('2026-07-28 on the fetch path (the gateway mounted as a fetch handler, no node fast path)', () => {
  it('a stdio elicitation tool by MRTR and an http service call work the same', async () => {
    const seen = new Set<string>();
    const stdio = await sdk2('fixture', { pin: V2026 }, { base: viaFetch.url, name: 'Fetch', seen });
    try {
      expect(textOf(await stdio.callTool({ name: 'elicit', arguments: { message: 'name?' } }))).toBe(
        'hello Fetch',
      );
    } finally {
      await stdio.close();
    }
    const http = await sdk2('upstream', { pin: V2026 }, { base: viaFetch.url, seen });
    try {
      const r = await http.callTool({ name: 'fetch', arguments: { url: `${page.url}/` } });
      expect(textOf(r)).toContain('hello from the page');
    } finally {
      await http.close();
    }
    expect(seen.has('mcp-session-id')).toBe(false);
  });
});

describe('2025 sessions keep working beside them', () => {
  it('MCP SDK 1.x: the fetch service and a stdio service, including the elicitation tool', async () => {
    const connect = async (service: Service) => {
      const client = new ClientV1({ name: 'sdk1', version: '1' }, { capabilities: { elicitation: {} } });
      client.setRequestHandler(ElicitRequestSchema, async () => ({
        action: 'accept',
        content: { name: 'V1' },
      }));
      await client.connect(
        new TransportV1(new URL(`${base}/${service}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${tokens.alice[service]}` } },
        }),
      );
      return client;
    };
    const f = await connect('fetch');
    try {
      const r = await f.callTool({ name: 'fetch', arguments: { url: `${page.url}/` } });
      expect(textOf(r)).toContain('hello from the page');
    } finally {
      await f.close();
    }
    const s = await connect('fixture');
    try {
      expect(textOf(await s.callTool({ name: 'elicit', arguments: { message: 'name?' } }))).toBe('hello V1');
    } finally {
      await s.close();
    }
  });
});

describe('2026-07-28: per-user child pools', () => {
  it('two users calling the same stdio service never share a child', async () => {
    const pids = async (user: 'alice' | 'bob') => {
      const client = await sdk2('fixture', { pin: V2026 }, { user });
      try {
        const out = new Set<string>();
        for (const r of await Promise.all([1, 2].map(() => client.callTool({ name: 'pid', arguments: {} }))))
          out.add(textOf(r));
        return out;
      } finally {
        await client.close();
      }
    };
    const [alice, bob] = await Promise.all([pids('alice'), pids('bob')]);
    expect(alice.size).toBeGreaterThan(0);
    expect([...alice].filter((p) => bob.has(p))).toEqual([]);
  });
});

describe('2026-07-28: the per-user child bound holds through the gateway', () => {
  it('a third concurrent call of one user waits for one of its two children (the bridge queue); another user is served meanwhile', async () => {
    // A client that can be asked for input: its calls never share a child (others may, see stateless-pool.test.ts).
    const _meta = { 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } };
    const slow = { method: 'tools/call', params: { name: 'slow', arguments: { ms: 400 }, _meta } };
    // JSON answers only: a slow call would otherwise turn into a stream with keep-alives.
    const json = { accept: 'application/json' };
    const bob = { ...json, authorization: `Bearer ${tokens.bob.fixture}` };
    const timed = async (headers: Record<string, string>) => {
      const started = Date.now();
      const r = await post2026('fixture', slow, headers);
      return { status: r.res.status, ms: Date.now() - started };
    };
    const [a1, a2, a3, b1] = await Promise.all([timed(json), timed(json), timed(json), timed(bob)]);
    expect([a1, a2, a3].map((r) => r.status)).toEqual([200, 200, 200]);
    // Two children per user: one of Alice's calls ran only after another had finished.
    expect(Math.max(a1.ms, a2.ms, a3.ms)).toBeGreaterThanOrEqual(780);
    expect(b1.status).toBe(200);
  });
});

describe('2026-07-28: tool-call metrics count sessionless calls', () => {
  const count = async (tool: string) => {
    const line = (await (await fetch(`${base}/metrics`)).text())
      .split('\n')
      .find((l) => l.startsWith(`mcp_gateway_tool_calls_total{service="fixture",tool="${tool}"}`));
    return Number(line?.split(' ').pop() ?? 0);
  };

  it('a 2026 tools/call to a stdio service is counted under its tool', async () => {
    const before = await count('add');
    const client = await sdk2('fixture', { pin: V2026 });
    try {
      await client.listTools();
      await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
    } finally {
      await client.close();
    }
    expect(await count('add')).toBe(before + 1);
  });

  it('a tool call answered input_required, then retried, counts once', async () => {
    const client = await sdk2('fixture', { pin: V2026 });
    try {
      await client.listTools();
      const before = await count('elicit');
      await client.callTool({ name: 'elicit', arguments: { message: 'name?' } });
      expect(await count('elicit')).toBe(before + 1);
    } finally {
      await client.close();
    }
  });
});

describe('2026-07-28 http services: mirrored headers are checked before forwarding (SEP-2243)', () => {
  const call = { method: 'tools/call', params: { name: 'fetch', arguments: { url: 'http://127.0.0.1:1/' } } };
  it.each([
    ['Mcp-Name unlike params.name', { 'mcp-name': 'other' }],
    ['Mcp-Method unlike method', { 'mcp-method': 'tools/list' }],
    ['MCP-Protocol-Version unlike the _meta version', { 'mcp-protocol-version': '2025-11-25' }],
  ])('%s: 400 with JSON-RPC -32020 HeaderMismatch, nothing forwarded', async (_w, headers) => {
    const before = upstreamRequests;
    const { res, json } = await post2026('upstream', call, headers);
    expect(res.status).toBe(400);
    expect(json.error?.code).toBe(-32020);
    expect(json).toMatchObject({ id: 7 });
    expect(upstreamRequests).toBe(before);
  });

  it('a missing Mcp-Name is a mismatch too; a base64-encoded one that matches is forwarded', async () => {
    const fetchPage = { name: 'fetch', arguments: { url: `${page.url}/` } };
    const forwarded = upstreamRequests;
    const missing = await post2026(
      'upstream',
      { method: 'tools/call', params: fetchPage },
      { 'mcp-name': null },
    );
    expect(missing.res.status).toBe(400);
    expect(missing.json.error?.code).toBe(-32020);
    expect(upstreamRequests).toBe(forwarded);
    const before = upstreamRequests;
    const ok = await post2026(
      'upstream',
      { method: 'tools/call', params: fetchPage },
      { 'mcp-name': `=?base64?${Buffer.from('fetch').toString('base64')}?=` },
    );
    expect(ok.res.status).toBe(200);
    expect(ok.json.result?.resultType).toBe('complete');
    expect(upstreamRequests).toBe(before + 1);
  });

  it("a revision the gateway does not know is -32022 listing both eras' revisions; 2025 traffic is not checked", async () => {
    const forwarded = upstreamRequests;
    const { res, json } = await post2026(
      'upstream',
      {
        method: 'tools/list',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      },
      { 'mcp-protocol-version': '2099-01-01' },
    );
    expect(res.status).toBe(400);
    // Every revision the gateway serves for the service (it forwards 2025 sessions too), as the bridge lists them.
    expect(json.error).toMatchObject({
      code: -32022,
      data: {
        supported: [V2026, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'],
        requested: '2099-01-01',
      },
    });
    expect(upstreamRequests).toBe(forwarded);
    const init = await rawPost(
      'upstream',
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      },
      { 'mcp-method': 'not-what-the-body-says' },
    );
    expect(init.status).toBe(200);
    await init.body?.cancel();
  });
});

describe('2026-07-28 at the gateway edge', () => {
  it('a 2026 request without a token: 401 with the RFC 9728 challenge, nothing forwarded', async () => {
    const before = upstreamRequests;
    const { res } = await post2026('upstream', { method: 'tools/list' }, { authorization: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('resource_metadata="');
    expect(upstreamRequests).toBe(before);
  });

  it('CORS preflight allows Mcp-Method, Mcp-Name, MCP-Protocol-Version and the requested Mcp-Param-* headers', async () => {
    const res = await fetch(`${base}/fixture/mcp`, {
      method: 'OPTIONS',
      headers: {
        origin: base,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, mcp-method, mcp-name, mcp-param-region',
      },
    });
    expect(res.status).toBe(204);
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
    for (const h of ['mcp-method', 'mcp-name', 'mcp-protocol-version', 'mcp-param-region'])
      expect(allowed).toContain(h);
  });
});
