// Per-tool policy on the gateway's MCP request path (issue 20): a real gateway on 127.0.0.1, a real
// stdio child (the fixture server), the in-process fetch service and an `http` service in front of
// a real fetch-server; MCP SDK 1.x (2025 sessions) and 2.x (2026-07-28 stateless) clients.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createFetchServer } from '@mcp-gateway/fetch-server';
import { hashSecret } from '@mcp-gateway/oauth-dynamicclient';
import {
  fixtureMcpServerCommand,
  listen,
  rawSession,
  request2026,
  type Listening,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { issueToken } from '../../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { createNodeServer, type NodeServer } from '../../src/http/node.js';
import { policies, users } from './policy-fixtures.js';
import { recordingLogger, type LogLine } from './recording-logger.js';

const V2026 = '2026-07-28';
const BOT_SECRET = 'ci-bot-secret-0123456789abcdef';
/** `open`: the fixture again, without a policy. */
type Service = 'fetch' | 'fixture' | 'upstream' | 'open';
type Who = 'alice' | 'bob' | 'bot';

let gw: Gateway;
let server: NodeServer;
let base: string;
let page: Listening;
let upstream: Listening;
/** Receives the gateway's `tool_call` webhooks. */
let hooks: Listening;
const hookBodies: Array<{ action: string; data: Record<string, unknown> }> = [];
let recordFile: string;
const lines: LogLine[] = [];
/** Paths the page server was asked for (what the fetch tool fetched). */
const pageHits: string[] = [];
/** `tools/call`s the `http` service's upstream received. */
let upstreamCalls = 0;
const tokens: Record<Who, Partial<Record<Service, string>>> = { alice: {}, bob: {}, bot: {} };

beforeAll(async () => {
  recordFile = join(mkdtempSync(join(tmpdir(), 'policy-route-')), 'record.txt');
  writeFileSync(recordFile, '');
  page = await listen((request) => {
    pageHits.push(new URL(request.url).pathname);
    return new Response('hello from the page', { headers: { 'content-type': 'text/plain' } });
  });
  hooks = await listen(async (request) => {
    hookBodies.push((await request.json()) as (typeof hookBodies)[number]);
    return new Response(null);
  });
  const fetchServer = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true });
  upstream = await listen(async (request) => {
    const body = request.method === 'POST' ? await request.clone().text() : '';
    if (body.includes('"tools/call"')) upstreamCalls++;
    return fetchServer(request);
  });
  const fixture = fixtureMcpServerCommand();
  const { config } = resolveConfig(
    {
      issuer: 'http://127.0.0.1',
      store: { type: 'memory' },
      idp: {
        type: 'local',
        users,
      },
      authorization: {
        grants: { clientCredentials: true },
        clients: [
          {
            id: 'ci-bot',
            secretHash: await hashSecret(BOT_SECRET),
            scopes: ['mcp:fixture', 'mcp:fetch', 'mcp:upstream'],
          },
        ],
      },
      services: {
        fetch: { type: 'fetch', allowHosts: ['127.0.0.1', 'localhost'], ignoreRobotsTxt: true },
        fixture: { type: 'stdio', ...fixture, env: { FIXTURE_RECORD_FILE: recordFile } },
        upstream: { type: 'http', url: `${upstream.url}/mcp` },
        open: { type: 'stdio', ...fixture, env: { FIXTURE_RECORD_FILE: recordFile } },
      },
      policies,
      webhooks: [{ url: hooks.url, secret: 'a-long-webhook-secret-0123', events: ['tool_call'] }],
    },
    { env: {} },
  );
  gw = await createGateway(config, { logger: recordingLogger(lines), processMetrics: false });
  server = createNodeServer(gw.fetch);
  base = await server.listen(0, '127.0.0.1');
  for (const user of ['alice', 'bob'] as const)
    for (const s of ['fetch', 'fixture', 'upstream', 'open'] as const)
      tokens[user][s] = (await issueToken(gw, user, s)).access_token;
  for (const s of ['fetch', 'fixture', 'upstream'] as const) {
    const res = await fetch(`${base}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`ci-bot:${BOT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        resource: gw.services.get(s)!.route.resource,
      }),
    });
    tokens.bot[s] = ((await res.json()) as { access_token: string }).access_token;
  }
});

afterAll(async () => {
  await server?.drain(0);
  await gw?.close(0);
  await upstream?.close();
  await page?.close();
  await hooks?.close();
});

const auth = (who: Who, service: Service) => ({ authorization: `Bearer ${tokens[who][service]}` });

async function sdk1(service: Service, who: Who) {
  const client = new ClientV1({ name: 'sdk1', version: '1' });
  await client.connect(
    new TransportV1(new URL(`${base}/${service}/mcp`), { requestInit: { headers: auth(who, service) } }),
  );
  return client;
}

async function sdk2(service: Service, who: Who) {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { versionNegotiation: { mode: { pin: V2026 } } },
  );
  await client.connect(
    new TransportV2(new URL(`${base}/${service}/mcp`), { requestInit: { headers: auth(who, service) } }),
  );
  return client;
}

type AnyClient = Awaited<ReturnType<typeof sdk1>> | Awaited<ReturnType<typeof sdk2>>;
/** Each era's client, and the code of a policy refusal there (2026-07-28: outside the JSON-RPC reserved range). */
const ERAS = [
  ['2025 session (SDK 1.x)', sdk1, -32010],
  ['2026-07-28 stateless (SDK 2.x)', sdk2, -31010],
] as const;

async function using<T>(client: Promise<AnyClient>, fn: (c: AnyClient) => Promise<T>): Promise<T> {
  const c = await client;
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

const names = async (c: AnyClient) => (await c.listTools()).tools.map((t) => t.name).sort();
const textOf = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;
const recorded = () => readFileSync(recordFile, 'utf8').split('\n').filter(Boolean);
/** The error a refused call rejects with (code and message as the client sees them). */
async function refusal(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: number; message?: string } | undefined;
  expect(err, 'the call was not refused').toBeDefined();
  return { code: err!.code!, message: err!.message! };
}

describe.each(ERAS)('per-tool policy, %s', (_era, connect, deniedCode) => {
  it('stdio service: hidden tools are not listed; read-only tools are callable by everyone', async () => {
    await using(connect('fixture', 'alice'), async (c) => {
      const listed = await names(c);
      expect(listed).toEqual(expect.arrayContaining(['echo', 'add', 'record', 'slow']));
      for (const hidden of ['crash', 'grandchild', 'garbage']) expect(listed).not.toContain(hidden);
      expect(textOf(await c.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    });
  });

  it('stdio service: a group may call under a path prefix; outside it the call is refused and never reaches the child', async () => {
    const tag = `${connect === sdk1 ? 'v1' : 'v2'}-${Date.now()}`;
    await using(connect('fixture', 'alice'), async (c) => {
      await c.listTools();
      const ok = await c.callTool({ name: 'record', arguments: { text: `in-${tag}`, path: '/notes/a' } });
      expect(textOf(ok)).toBe('recorded');
      const err = await refusal(
        c.callTool({ name: 'record', arguments: { text: `out-${tag}`, path: '/notes/../etc' } }),
      );
      expect(err.code).toBe(deniedCode);
      expect(err.message).toContain('tool "record" refused by policy: not allowed by policy');
      // Not read-only and no rule allows it: the default (deny).
      expect((await refusal(c.callTool({ name: 'slow', arguments: { ms: 0 } }))).code).toBe(deniedCode);
    });
    expect(recorded()).toContain(`in-${tag}`);
    expect(recorded()).not.toContain(`out-${tag}`);
  });

  it('stdio service: a tool hidden from a user is neither listed nor callable by them', async () => {
    const tag = `bob-${connect === sdk1 ? 'v1' : 'v2'}-${Date.now()}`;
    await using(connect('fixture', 'bob'), async (c) => {
      expect(await names(c)).not.toContain('record');
      const err = await refusal(c.callTool({ name: 'record', arguments: { text: tag, path: '/notes/b' } }));
      expect(err.code).toBe(deniedCode);
      expect(err.message).toContain('tool "record" refused by policy: tool not available');
    });
    expect(recorded()).not.toContain(tag);
  });

  it('stdio service: a machine client (client_credentials) is allowed by its client id', async () => {
    const tag = `bot-${connect === sdk1 ? 'v1' : 'v2'}-${Date.now()}`;
    await using(connect('fixture', 'bot'), async (c) => {
      expect(textOf(await c.callTool({ name: 'record', arguments: { text: tag, path: '/anywhere' } }))).toBe(
        'recorded',
      );
    });
    expect(recorded()).toContain(tag);
  });

  it('fetch service: a URL whose host is in the allow-list is fetched; another host or a denied path is refused and never fetched', async () => {
    await using(connect('fetch', 'alice'), async (c) => {
      const r = await c.callTool({ name: 'fetch', arguments: { url: `${page.url}/allowed` } });
      expect(textOf(r)).toContain('hello from the page');
      const other = await refusal(
        c.callTool({
          name: 'fetch',
          arguments: { url: page.url.replace('127.0.0.1', 'localhost') + '/other' },
        }),
      );
      expect(other).toMatchObject({ code: deniedCode });
      const secret = await refusal(c.callTool({ name: 'fetch', arguments: { url: `${page.url}/secret/x` } }));
      expect(secret.message).toContain('tool "fetch" refused by policy: no secrets');
    });
    expect(pageHits).toContain('/allowed');
    expect(pageHits).not.toContain('/other');
    expect(pageHits).not.toContain('/secret/x');
  });

  it('http service: hidden from one user, denied to a machine client, nothing forwarded for either', async () => {
    await using(connect('upstream', 'bob'), async (c) => {
      expect(await names(c)).not.toContain('fetch');
      const before = upstreamCalls;
      const err = await refusal(c.callTool({ name: 'fetch', arguments: { url: `${page.url}/bob` } }));
      expect(err.message).toContain('tool not available');
      expect(upstreamCalls).toBe(before);
    });
    await using(connect('upstream', 'bot'), async (c) => {
      expect(await names(c)).toContain('fetch');
      const before = upstreamCalls;
      const err = await refusal(c.callTool({ name: 'fetch', arguments: { url: `${page.url}/bot` } }));
      expect(err).toMatchObject({ code: deniedCode });
      expect(err.message).toContain('machines may not fetch');
      expect(upstreamCalls).toBe(before);
    });
    await using(connect('upstream', 'alice'), async (c) => {
      const before = upstreamCalls;
      const r = await c.callTool({ name: 'fetch', arguments: { url: `${page.url}/alice` } });
      expect(textOf(r)).toContain('hello from the page');
      expect(upstreamCalls).toBe(before + 1);
    });
    expect(pageHits).not.toContain('/bob');
    expect(pageHits).not.toContain('/bot');
  });
});

describe('auditing refused calls', () => {
  it('each refusal is one log line without arguments or tokens, and a counter with bounded labels', async () => {
    const metric = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) =>
          l.startsWith('mcp_gateway_policy_denials_total{target="service",name="fetch",decision="deny"}'),
        );
      return Number(line?.split(' ').pop() ?? 0);
    };
    const before = await metric();
    const from = lines.length;
    await using(sdk2('fetch', 'alice'), async (c) => {
      await refusal(c.callTool({ name: 'fetch', arguments: { url: `${page.url}/secret/audit-arg` } }));
    });
    expect(await metric()).toBe(before + 1);
    const audit = lines.slice(from).filter((l) => l.msg === 'tool call refused by policy');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      level: 'warn',
      fields: {
        service: 'fetch',
        tool: 'fetch',
        user: 'local:alice',
        decision: 'deny',
        reason: 'no secrets',
        rule: 0,
      },
    });
    await gw.webhooks.idle();
    const denied = hookBodies.filter((b) => b.action === 'tool.denied');
    expect(denied.at(-1)?.data).toMatchObject({
      service: 'fetch',
      tool: 'fetch',
      user: 'local:alice',
      reason: 'no secrets',
    });
    expect(JSON.stringify(denied)).not.toContain('audit-arg');
    const serialised = JSON.stringify(audit[0]);
    expect(serialised).not.toContain('audit-arg');
    expect(serialised).not.toContain(tokens.alice.fetch!.slice(-20));
  });
});

describe('a body that does not read one way only', () => {
  /** Posts `body` to `service`; the status and JSON-RPC error as the client gets them. */
  async function post(service: Service, headers: Record<string, string>, body: string) {
    const res = await fetch(`${base}/${service}/mcp`, { method: 'POST', headers, body });
    const text = await res.text();
    return {
      status: res.status,
      text,
      error: text.startsWith('{')
        ? (JSON.parse(text) as { error?: { code: number; message: string } }).error
        : undefined,
    };
  }

  it('2026-07-28, stdio service: a call judged on the last "name" but naming a refused tool first is refused whole (400, -32600) and never reaches the child', async () => {
    const tag = `dup-${Date.now()}`;
    const { headers, body } = request2026('tools/call', { name: 'echo', arguments: { text: tag } });
    const h = { ...headers, ...auth('alice', 'fixture') };
    // JSON.parse keeps the last "name" and "arguments" (echo, allowed); a parser keeping the first runs record outside /notes.
    const smuggled = body.replace(
      '"params":{',
      `"params":{"name":"record","arguments":{"text":"${tag}","path":"/etc"},`,
    );
    expect(JSON.parse(smuggled).params).toMatchObject({ name: 'echo', arguments: { text: tag } });
    const refused = await post('fixture', h, smuggled);
    expect(refused.status).toBe(400);
    expect(refused.error?.code).toBe(-32600);
    expect(refused.error?.message).toContain('"name" occurs twice in one object');
    expect(recorded()).not.toContain(tag);
    // The same call without the repeated names passes (once a list has shown echo is read-only).
    const list = request2026('tools/list', {}, { id: 2 });
    expect((await post('fixture', { ...list.headers, ...auth('alice', 'fixture') }, list.body)).status).toBe(
      200,
    );
    const ok = await post('fixture', h, body);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain(tag);
  });

  /** Headers of a 2025 request without a session (the fetch services are stateless). */
  const plain2025 = (who: Who, service: Service) => ({
    ...auth(who, service),
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-06-18',
  });

  it('2025 session, stdio service: the same smuggled call over a session is refused before the child gets the line', async () => {
    const tag = `dup25-${Date.now()}`;
    const session = await rawSession(`${base}/fixture/mcp`, tokens.alice.fixture!, '2025-06-18');
    const refused = await post(
      'fixture',
      session,
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"record","arguments":{"text":"${tag}","path":"/etc"},"name":"echo","arguments":{"text":"${tag}"}}}`,
    );
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ code: -32600 });
    expect(recorded()).not.toContain(tag);
  });

  it('2025, fetch service: a repeated "url" in the arguments is refused and nothing is fetched', async () => {
    const session = plain2025('alice', 'fetch');
    const call = (args: string) =>
      `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fetch","arguments":${args}}}`;
    const refused = await post(
      'fetch',
      session,
      call(`{"url":"${page.url}/secret/dup","url":"${page.url}/allowed-dup"}`),
    );
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ code: -32600 });
    expect(refused.error?.message).toContain('"url" occurs twice');
    expect(pageHits).not.toContain('/secret/dup');
    expect(pageHits).not.toContain('/allowed-dup');
    // Names that repeat only across objects are fine.
    const ok = await post('fetch', session, call(`{"url":"${page.url}/allowed-dup","_meta":{"url":"x"}}`));
    expect(ok.status).toBe(200);
    expect(pageHits).toContain('/allowed-dup');
  });

  it('http service: a repeated "method" (tools/call hidden behind ping) is refused and nothing is forwarded', async () => {
    const session = plain2025('bob', 'upstream');
    const before = upstreamCalls;
    const refused = await post(
      'upstream',
      session,
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"fetch","arguments":{"url":"${page.url}/bob-dup"}},"method":"ping"}`,
    );
    expect(refused.status).toBe(400);
    expect(refused.error?.message).toContain('"method" occurs twice');
    expect(upstreamCalls).toBe(before);
    expect(pageHits).not.toContain('/bob-dup');
  });

  it('http service: a body that is not JSON (here a NaN a lenient parser would take) is refused (400, -32700), not forwarded', async () => {
    const before = upstreamCalls;
    const refused = await post(
      'upstream',
      plain2025('bob', 'upstream'),
      `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"fetch","arguments":{"url":"${page.url}/bob-nan","n":NaN}}}`,
    );
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ code: -32700 });
    expect(upstreamCalls).toBe(before);
    expect(pageHits).not.toContain('/bob-nan');
  });

  it('a service without a policy: the same refusals, so the tool-call log line and webhook name the tool the service runs', async () => {
    const tag = `open-${Date.now()}`;
    const session = await rawSession(`${base}/open/mcp`, tokens.alice.open!, '2025-06-18');
    const from = lines.length;
    const hooksBefore = hookBodies.length;
    const refused = await post(
      'open',
      session,
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"record","arguments":{"text":"${tag}"},"name":"echo","arguments":{"text":"${tag}"}}}`,
    );
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ code: -32600 });
    const notJson = await post('open', session, `{"jsonrpc":"2.0","id":2,"method":"tools/call",}`);
    expect(notJson.status).toBe(400);
    expect(notJson.error).toMatchObject({ code: -32700 });
    expect(recorded()).not.toContain(tag);
    // A call that reads one way only is served, logged and announced as before.
    const ok = await post(
      'open',
      session,
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${tag}"}}}`,
    );
    expect(ok.status).toBe(200);
    expect(ok.text).toContain(tag);
    await gw.webhooks.idle();
    const logged = lines.slice(from).filter((l) => l.msg === 'tool call');
    expect(logged.map((l) => l.fields.tool)).toEqual(['echo']);
    expect(hookBodies.slice(hooksBefore).map((b) => b.data.tool)).toEqual(['echo']);
  });
});

describe('2026-07-28 answers of a service under a policy', () => {
  /** A raw 2026-07-28 request to `service` as `who`: the status and the JSON-RPC answer. */
  async function post2026(service: Service, who: Who, method: string, opts: { version?: string } = {}) {
    const version = opts.version ?? V2026;
    const meta = { 'io.modelcontextprotocol/protocolVersion': version };
    const req = request2026(method, {}, { meta });
    const res = await fetch(`${base}/${service}/mcp`, {
      method: 'POST',
      headers: { ...req.headers, 'mcp-protocol-version': version, ...auth(who, service) },
      body: req.body,
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        result?: { tools: Array<{ name: string }>; ttlMs?: number; cacheScope?: string };
        error?: { code: number; data?: unknown };
      },
    };
  }

  /** The ttlMs fetch-server gives its lists (`public`: the same for every user). */
  const FETCH_SERVER_TTL_MS = 60 * 60 * 1000;

  /** A 2025 `tools/list` of the fetch service (stateless: no session) as `who`: its result. */
  async function list2025(who: Who): Promise<Record<string, unknown>> {
    const res = await fetch(`${base}/fetch/mcp`, {
      method: 'POST',
      headers: {
        ...auth(who, 'fetch'),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    const text = await res.text();
    const json = text.startsWith('{') ? text : text.slice(text.indexOf('data: ') + 6).split('\n')[0]!;
    return (JSON.parse(json) as { result: Record<string, unknown> }).result;
  }

  it('tools/list is cacheScope "private" on every service type (the list depends on who asks, even when nothing is hidden), ttlMs kept; a 2025 list gets no hints', async () => {
    for (const [service, who] of [
      ['fetch', 'alice'],
      ['upstream', 'alice'],
      ['upstream', 'bob'],
    ] as const) {
      const { status, body } = await post2026(service, who, 'tools/list');
      expect(status).toBe(200);
      expect(body.result, `${service} as ${who}`).toMatchObject({
        resultType: 'complete',
        ttlMs: FETCH_SERVER_TTL_MS,
        cacheScope: 'private',
      });
      // Nothing hidden from alice; the tool hidden from bob is left out.
      expect(body.result!.tools.some((t) => t.name === 'fetch')).toBe(who === 'alice');
    }
    // The stdio bridge says private itself; its ttlMs is the one the same server gets without a policy.
    const [filtered, open] = await Promise.all([
      post2026('fixture', 'alice', 'tools/list'),
      post2026('open', 'alice', 'tools/list'),
    ]);
    expect(filtered.body.result).toMatchObject({ cacheScope: 'private', ttlMs: open.body.result!.ttlMs });
    const legacy = await list2025('alice');
    expect(legacy.tools).toBeDefined();
    expect(legacy).not.toHaveProperty('cacheScope');
    expect(legacy).not.toHaveProperty('ttlMs');
  });

  it('stdio service: an unknown revision is -32022 listing what the service without a policy (the bridge) lists', async () => {
    const [filtered, open] = await Promise.all([
      post2026('fixture', 'alice', 'tools/list', { version: '2099-01-01' }),
      post2026('open', 'alice', 'tools/list', { version: '2099-01-01' }),
    ]);
    expect([filtered.status, open.status]).toEqual([400, 400]);
    expect(open.body.error).toMatchObject({ code: -32022 });
    expect(filtered.body.error).toEqual(open.body.error);
  });
});
