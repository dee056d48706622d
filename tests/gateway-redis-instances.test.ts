// Two gateway processes on one Redis, `instanceId` gw1 and gw2: every 2025 session id names the
// instance holding the session (a stdio child, a federated session), so a front routing
// Mcp-Session-Id by its prefix (as examples/redis-cluster/nginx.conf does) keeps each session on
// its instance while everything else spreads. A request sent to the wrong instance gets 404 and
// that instance logs the misrouting. Real Redis, real gateway processes, real stdio children.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  killAllSpawned,
  listen,
  rawSession,
  startRedis,
  type Listening,
  type RedisServer,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, gatewayCli, startGateway, type RunningGateway } from './gateway-helpers.js';

const V2025 = '2025-06-18';
const TARGETS = ['demo', '/all'] as const;
type Target = (typeof TARGETS)[number];
const pathOf = (t: Target) => (t === 'demo' ? '/demo/mcp' : '/all');

let redis: RedisServer;
let env: NodeJS.ProcessEnv;
const gw: Record<'gw1' | 'gw2', RunningGateway> = {} as never;
const tokens = {} as Record<Target, string>;
/** In front of both: a session's requests by the id's prefix, anything else round robin. */
let front: Listening;
const served: Array<'gw1' | 'gw2'> = [];

const run = promisify(execFile);
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [gatewayCli, ...args], {
    cwd: gw.gw1.cwd,
    env: { ...process.env, ...env, MCP_GATEWAY__LOGGING__LEVEL: 'warn', ...extra },
  });

beforeAll(async () => {
  redis = await startRedis();
  const port = await freePort();
  env = {
    MCP_GATEWAY__STORE: JSON.stringify({ type: 'redis', url: redis.url }),
    // One public URL for both instances, as behind a load balancer.
    MCP_GATEWAY__ISSUER: `http://127.0.0.1:${port}`,
    // The default services (fetch, and the stdio demo) plus a federated endpoint over the demo.
    MCP_GATEWAY__FEDERATED: JSON.stringify([{ path: '/all', services: ['demo'] }]),
  };
  [gw.gw1, gw.gw2] = await Promise.all([
    startGateway({ env: { ...env, MCP_GATEWAY__INSTANCE_ID: 'gw1' }, port }),
    startGateway({ env: { ...env, MCP_GATEWAY__INSTANCE_ID: 'gw2' } }),
  ]);
  for (const t of TARGETS)
    tokens[t] = (await cli(['token', '--user', 'admin', '--service', t])).stdout.trim();
  let n = 0;
  front = await listen(async (request) => {
    const session = request.headers.get('mcp-session-id');
    const named = session ? /^(gw[0-9]+)\./.exec(session)?.[1] : undefined;
    const instance = named === 'gw1' || named === 'gw2' ? named : n++ % 2 === 0 ? 'gw1' : 'gw2';
    served.push(instance);
    const url = new URL(request.url);
    const res = await fetch(`${gw[instance].url}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.method === 'POST' ? await request.arrayBuffer() : undefined,
      signal: request.signal,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
});

afterAll(async () => {
  await front?.close();
  await killAllSpawned();
});

const listTools = (headers: Record<string, string>, base: string, target: Target) =>
  fetch(`${base}${pathOf(target)}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });

describe('two instances with instanceId on one Redis', () => {
  it.each(TARGETS)(
    '%s: a session opened on gw1 is gw1.…, served by gw1; sent to gw2 it is 404 and gw2 names gw1 in a warning',
    async (target) => {
      const headers = await rawSession(`${gw.gw1.url}${pathOf(target)}`, tokens[target], V2025);
      expect(headers['mcp-session-id']).toMatch(/^gw1\./);
      const onOwner = await listTools(headers, gw.gw1.url, target);
      expect(onOwner.status).toBe(200);
      expect(await onOwner.text()).toContain('echo');
      const onOther = await listTools(headers, gw.gw2.url, target);
      expect(onOther.status).toBe(404);
      await onOther.text();
      const where = target === 'demo' ? '"service":"demo"' : '"endpoint":"/all"';
      const line = await gw.gw2.cli.waitForOutput(new RegExp(`^.*${where},"sessionInstance":"gw1".*$`, 'm'), {
        stream: 'stdout',
        timeoutMs: 5_000,
      });
      expect(JSON.parse(line[0])).toMatchObject({
        level: 40,
        instanceId: 'gw2',
        msg: expect.stringMatching(/^misrouted session/),
      });
      // The owner still serves it: a misrouted request ends nothing.
      const again = await listTools(headers, gw.gw1.url, target);
      expect(again.status).toBe(200);
      await again.text();
    },
  );

  it.each(TARGETS)(
    '%s: behind a front routing by the prefix, SDK 1.x sessions opened on either instance all keep working',
    async (target) => {
      served.length = 0;
      const clients: Client[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          const client = new Client({ name: `c${i}`, version: '1' });
          const transport = new StreamableHTTPClientTransport(new URL(`${front.url}${pathOf(target)}`), {
            requestInit: { headers: { authorization: `Bearer ${tokens[target]}` } },
          });
          await client.connect(transport);
          expect(transport.sessionId).toMatch(/^gw[12]\./);
          clients.push(client);
        }
        for (const [i, client] of clients.entries()) {
          const r = await client.callTool({ name: 'echo', arguments: { text: `hi ${i}` } });
          expect((r as { content: Array<{ text: string }> }).content[0]!.text).toContain(`hi ${i}`);
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
      // Both instances opened sessions (initialize went round robin).
      expect(new Set(served)).toEqual(new Set(['gw1', 'gw2']));
    },
  );

  it('config check names the instance; on Redis without instanceId it warns and names the variable', async () => {
    const named = await cli(['config', 'check'], { MCP_GATEWAY__INSTANCE_ID: 'gw1' });
    expect(named.stdout).toMatch(/store redis, instance gw1/);
    expect(named.stdout).not.toMatch(/warning: instanceId/);
    const unnamed = await cli(['config', 'check']);
    expect(unnamed.stdout).toMatch(
      /warning: instanceId: unset with store\.type redis.*MCP_GATEWAY__INSTANCE_ID/,
    );
  });
});
