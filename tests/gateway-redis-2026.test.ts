// MCP 2026-07-28 behind two gateway processes on one Redis, with no sticky
// routing: requests alternate between the instances, and a multi-round-trip
// (MRTR) tool call is answered input_required by one instance and completed
// by the other. Real Redis, real gateway processes, real stdio children.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fixtureMcpServerCommand, killAllSpawned, startRedis, type RedisServer } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, gatewayCli, startGateway, type RunningGateway } from './gateway-helpers.js';

const V2026 = '2026-07-28';
const SERVICES = ['alpha', 'beta'] as const;
type Service = (typeof SERVICES)[number];

let redis: RedisServer;
let a: RunningGateway;
let b: RunningGateway;
let env: NodeJS.ProcessEnv;
const tokens = {} as Record<Service, string>;

beforeAll(async () => {
  redis = await startRedis();
  const portA = await freePort();
  const fixture = fixtureMcpServerCommand();
  env = {
    MCP_GATEWAY__STORE: JSON.stringify({ type: 'redis', url: `${redis.url}` }),
    // One public URL for both instances, as behind a load balancer.
    MCP_GATEWAY__ISSUER: `http://127.0.0.1:${portA}`,
  };
  for (const s of SERVICES) {
    const key = `MCP_GATEWAY__SERVICES__${s.toUpperCase()}__`;
    env[`${key}TYPE`] = 'stdio';
    env[`${key}COMMAND`] = fixture.command;
    env[`${key}ARGS`] = JSON.stringify(fixture.args);
  }
  // Both instances start at once: they must still agree on one request-state secret.
  [a, b] = await Promise.all([startGateway({ env, port: portA }), startGateway({ env })]);
  for (const s of SERVICES) {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [gatewayCli, 'token', '--user', 'admin', '--service', s],
      { cwd: a.cwd, env: { ...process.env, ...env, MCP_GATEWAY__LOGGING__LEVEL: 'warn' } },
    );
    tokens[s] = stdout.trim();
  }
});

afterAll(async () => {
  await killAllSpawned();
});

interface Reply {
  status: number;
  result?: { resultType?: string; content?: Array<{ text: string }>; [k: string]: unknown };
  error?: { code: number; message: string };
}

/** A raw 2026-07-28 `tools/call` (envelope and mirrored headers as a client sends them) to `base`. */
async function call2026(
  base: string,
  service: Service,
  id: number,
  params: Record<string, unknown>,
): Promise<Reply> {
  const res = await fetch(`${base}/${service}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tokens[service]}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': V2026,
      'mcp-method': 'tools/call',
      'mcp-name': String(params.name),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': V2026,
          'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
        },
      },
    }),
  });
  expect(res.headers.get('mcp-session-id')).toBeNull();
  const text = await res.text();
  const json = (
    res.headers.get('content-type')?.startsWith('text/event-stream')
      ? JSON.parse(/^data: (.*)$/m.exec(text)![1]!)
      : JSON.parse(text)
  ) as Reply;
  return { ...json, status: res.status };
}

interface InputRequired {
  inputRequests: Record<string, { method: string; params: { message: string } }>;
  requestState: string;
}

const elicit = { name: 'elicit', arguments: { message: 'name?' } };

describe('2026-07-28 on two gateways sharing Redis, no sticky routing', () => {
  it('mrtr: an input_required answer from instance A is completed by its retry on instance B', async () => {
    const first = await call2026(a.url, 'alpha', 1, elicit);
    expect(first.status, JSON.stringify(first)).toBe(200);
    expect(first.result?.resultType).toBe('input_required');
    const { inputRequests, requestState } = first.result as unknown as InputRequired;
    const [key, asked] = Object.entries(inputRequests)[0]!;
    expect(asked.method).toBe('elicitation/create');
    const retry = await call2026(b.url, 'alpha', 2, {
      ...elicit,
      inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } },
      requestState,
    });
    expect(retry.status, JSON.stringify(retry)).toBe(200);
    expect(retry.result?.resultType ?? 'complete').toBe('complete');
    expect(retry.result?.content?.[0]?.text).toBe('hello Ada');
  });

  it('mrtr: a requestState issued for one service is refused by another (-32602), on either instance', async () => {
    const first = await call2026(a.url, 'alpha', 1, elicit);
    const { inputRequests, requestState } = first.result as unknown as InputRequired;
    const [key] = Object.keys(inputRequests);
    for (const base of [a.url, b.url]) {
      const replayed = await call2026(base, 'beta', 3, {
        ...elicit,
        inputResponses: { [key!]: { action: 'accept', content: { name: 'Mallory' } } },
        requestState,
      });
      expect(replayed.status).toBe(400);
      expect(replayed.error?.code).toBe(-32602);
      expect(replayed.error?.message).toContain('requestState');
    }
  });

  it('MCP SDK 2.x pinned to 2026-07-28, every request alternating between A and B, calls the elicitation tool', async () => {
    const served: Array<{ instance: 'A' | 'B'; method: string; retry: boolean }> = [];
    let n = 0;
    const alternating: typeof fetch = async (input, init) => {
      const instance = n++ % 2 === 0 ? 'A' : 'B';
      const url = new URL(input instanceof Request ? input.url : String(input));
      const target = new URL(instance === 'A' ? a.url : b.url);
      url.host = target.host;
      if (typeof init?.body === 'string') {
        const m = JSON.parse(init.body) as { method?: string; params?: { requestState?: string } };
        if (m.method)
          served.push({ instance, method: m.method, retry: m.params?.requestState !== undefined });
      }
      return fetch(url, init);
    };
    const client = new Client(
      { name: 'sdk2-alternating', version: '1' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: V2026 } } },
    );
    client.setRequestHandler('elicitation/create', async () => ({
      action: 'accept',
      content: { name: 'Grace' },
    }));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${a.url}/alpha/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${tokens.alpha}` } },
        fetch: alternating,
      }),
    );
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('elicit');
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'round robin' } });
      expect((echoed as { content: Array<{ text: string }> }).content[0]!.text).toBe('round robin');
      const hello = await client.callTool(elicit);
      expect((hello as { content: Array<{ text: string }> }).content[0]!.text).toBe('hello Grace');
    } finally {
      await client.close();
    }
    const calls = served.filter((s) => s.method === 'tools/call');
    const retry = calls.findIndex((s) => s.retry);
    expect(retry, JSON.stringify(served)).toBeGreaterThan(0);
    // The retry went to the other instance than the call it completes.
    expect(calls[retry]!.instance).not.toBe(calls[retry - 1]!.instance);
    expect(new Set(served.map((s) => s.instance))).toEqual(new Set(['A', 'B']));
  });
});
