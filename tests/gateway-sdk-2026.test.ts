// MCP SDK clients of both generations through one gateway (issue 17): the SDK 2.x
// client pinned to 2026-07-28 and in `auto` mode, and the SDK 1.x client (2025,
// sessions), each with a real OAuth token, reach the built-in fetch service and a
// stdio service, list and call tools, including one whose stdio child asks for
// elicitation. For 2026 clients the bridge turns the child's `elicitation/create`
// into an input_required result that the SDK answers with its handler and retries;
// 2026 traffic opens no session. A fetch wrapper records what went over the wire.
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { killAllSpawned, listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerAndGetToken,
  startGateway,
  tempDir,
  writeFetchAndFixtureConfig,
  type RunningGateway,
} from './gateway-helpers.js';

const V2026 = '2026-07-28';
const SERVICES = ['fetch', 'fixture'] as const;
type Service = (typeof SERVICES)[number];

let gw: RunningGateway;
let page: Listening;
const tokens = {} as Record<Service, string>;

beforeAll(async () => {
  // A page on loopback for the fetch tool (the fetch service allows 127.0.0.1 below).
  page = await listen(
    () =>
      new Response('<html><body><h1>Interop page</h1><p>Served on loopback.</p></body></html>', {
        headers: { 'content-type': 'text/html' },
      }),
  );
  const cwd = tempDir();
  writeFetchAndFixtureConfig(cwd);
  gw = await startGateway({ cwd });
  // Real OAuth tokens: registration, authorization code with PKCE, sign-in, consent, token; one per service.
  for (const s of SERVICES) {
    tokens[s] = await registerAndGetToken(gw.url, {
      username: 'admin',
      password: gw.adminPassword!,
      resource: `${gw.url}/${s}/mcp`,
    });
  }
});

afterAll(async () => {
  await killAllSpawned();
  await page?.close();
});

/** One HTTP exchange as the client's transport saw it. */
interface Exchange {
  verb: string;
  /** JSON-RPC method of the request body, when it had one. */
  rpc: string | undefined;
  retry: boolean;
  requestVersion: string | null;
  status: number;
  sessionId: string | null;
}

/** A fetch that records each request and its response headers, and changes nothing. */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    let body: { method?: string; params?: { requestState?: string } } | undefined;
    if (typeof init?.body === 'string') body = JSON.parse(init.body) as typeof body;
    log.push({
      verb: init?.method ?? 'GET',
      rpc: body?.method,
      retry: body?.params?.requestState !== undefined,
      requestVersion: new Headers(init?.headers).get('mcp-protocol-version'),
      status: res.status,
      sessionId: res.headers.get('mcp-session-id'),
    });
    return res;
  };
}

const url = (s: Service) => new URL(`${gw.url}/${s}/mcp`);
const auth = (s: Service) => ({ headers: { authorization: `Bearer ${tokens[s]}` } });
const firstText = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;

/** What each client does on the two services; the same for every SDK generation. */
async function exercise(
  call: {
    listTools(): Promise<{ tools: Array<{ name: string }> }>;
    callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  },
  service: Service,
): Promise<void> {
  const names = (await call.listTools()).tools.map((t) => t.name);
  if (service === 'fetch') {
    expect(names).toEqual(['fetch']);
    const fetched = await call.callTool({ name: 'fetch', arguments: { url: page.url } });
    expect(firstText(fetched)).toContain('Interop page');
    return;
  }
  expect(names).toEqual(expect.arrayContaining(['echo', 'add', 'elicit']));
  expect(firstText(await call.callTool({ name: 'add', arguments: { a: 2, b: 40 } }))).toBe('42');
  const hello = await call.callTool({ name: 'elicit', arguments: { message: 'Your name?' } });
  expect(firstText(hello)).toBe('hello Ada');
}

describe.each([
  { mode: { pin: V2026 } as const, label: 'pinned to 2026-07-28' },
  { mode: 'auto' as const, label: "in 'auto' mode" },
])('MCP SDK 2.x client $label through the gateway', ({ mode }) => {
  it.each(SERVICES)('%s service: modern era, tools listed and called, no session opened', async (service) => {
    const log: Exchange[] = [];
    const asked: string[] = [];
    const client = new Client2(
      { name: 'sdk2-interop', version: '1.0.0' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode } },
    );
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(String(req.params.message));
      return { action: 'accept', content: { name: 'Ada' } };
    });
    await client.connect(
      new Transport2(url(service), { requestInit: auth(service), fetch: recordingFetch(log) }),
    );
    try {
      expect(client.getProtocolEra()).toBe('modern');
      await exercise(client, service);
    } finally {
      await client.close();
    }
    const rpcs = log.map((e) => e.rpc);
    expect(rpcs).not.toContain('initialize');
    expect(rpcs).toContain('tools/call');
    for (const e of log) {
      expect(e, JSON.stringify(log)).toMatchObject({
        verb: 'POST',
        status: 200,
        sessionId: null,
        requestVersion: V2026,
      });
    }
    if (service === 'fixture') {
      // The child's elicitation/create became input_required: the handler answered it, then a retry with requestState.
      expect(asked).toEqual(['Your name?']);
      expect(log.filter((e) => e.rpc === 'tools/call' && e.retry)).toHaveLength(1);
    }
  });
});

describe('MCP SDK 1.x client through the gateway', () => {
  // The bridge opens a 2025 session per client; the in-process fetch service serves 2025 statelessly.
  it.each(SERVICES)('%s service: 2025 era, tools listed and called', async (service) => {
    const log: Exchange[] = [];
    const asked: string[] = [];
    const client = new Client1(
      { name: 'sdk1-interop', version: '1.0.0' },
      { capabilities: { elicitation: {} } },
    );
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { name: 'Ada' } };
    });
    const transport = new Transport1(url(service), {
      requestInit: auth(service),
      fetch: recordingFetch(log),
    });
    await client.connect(transport);
    const sessionId = transport.sessionId;
    try {
      expect(transport.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
      if (service === 'fixture') expect(sessionId).toMatch(/\S/);
      else expect(sessionId).toBeUndefined();
      await exercise(client, service);
    } finally {
      if (sessionId) await transport.terminateSession();
      await client.close();
    }
    expect(log[0]).toMatchObject({ rpc: 'initialize', status: 200 });
    expect(log[0]!.sessionId ?? undefined).toBe(sessionId);
    expect(log.filter((e) => e.rpc !== undefined).every((e) => e.requestVersion !== V2026)).toBe(true);
    // The ordinary 2025 flow: the child's request reached the handler; no MRTR retry.
    expect(asked).toEqual(service === 'fixture' ? ['Your name?'] : []);
    expect(log.some((e) => e.retry)).toBe(false);
  });
});
