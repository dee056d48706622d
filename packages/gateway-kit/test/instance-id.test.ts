// `instanceId`: every 2025 session id an instance makes (stdio services, federated endpoints) is
// `<instanceId>.<random>`, so a load balancer routes Mcp-Session-Id by its prefix; a request naming
// another instance's session gets 404 and the operator a warning, at most one a minute.
// In-process gateways with the stdio demo server as a real child process.
import { afterAll, describe, expect, it } from 'vitest';
import { instanceWarnings } from '../src/config/instance.js';
import { resolveConfig } from '../src/config/load.js';
import type { GatewayConfigInput } from '../src/config/schema.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { MisroutedSessions, sessionInstance } from '../src/instance-id.js';
import { ConfigError } from '../src/config/errors.js';
import { demoPath } from './helpers/listening.js';
import { recordingLogger, type LogLine } from './policy/recording-logger.js';

const ISSUER = 'http://127.0.0.1:8080';
const demo = { type: 'stdio' as const, command: process.execPath, args: [demoPath()] };
const gateways: Gateway[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(0)));
});

/** An in-process gateway with the demo service and a federated endpoint over it; its log lines. */
async function gateway(input: GatewayConfigInput) {
  const lines: LogLine[] = [];
  const { config } = resolveConfig(
    {
      issuer: ISSUER,
      store: { type: 'memory' },
      services: { demo },
      federated: [{ path: '/all', services: ['demo'] }],
      ...input,
    },
    { env: {} },
  );
  const gw = await createGateway(config, {
    logger: recordingLogger(lines),
    processMetrics: false,
    passwordCost: { N: 1024, r: 8, p: 1 },
  });
  gateways.push(gw);
  await gw.users.put('alice', 'alice-password-1');
  const tokens = {
    demo: (await issueToken(gw, 'alice', 'demo')).access_token,
    all: (await issueToken(gw, 'alice', '/all')).access_token,
  };
  return { gw, lines, tokens };
}

type Tested = Awaited<ReturnType<typeof gateway>>;

const post = (t: Tested, path: '/demo/mcp' | '/all', body: unknown, session?: string) =>
  t.gw.fetch(
    new Request(`${ISSUER}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${path === '/all' ? t.tokens.all : t.tokens.demo}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } : {}),
      },
      body: JSON.stringify(body),
    }),
  );

const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const listTools = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

/** Opens a 2025 session at `path`; returns its id. */
async function open(t: Tested, path: '/demo/mcp' | '/all'): Promise<string> {
  const res = await post(t, path, initialize);
  await res.text();
  expect(res.status).toBe(200);
  const id = res.headers.get('mcp-session-id');
  expect(id).toBeTruthy();
  const ack = await post(t, path, { jsonrpc: '2.0', method: 'notifications/initialized' }, id!);
  await ack.text();
  return id!;
}

const misroutings = (lines: LogLine[]) => lines.filter((l) => l.msg.startsWith('misrouted session'));

describe('config: instanceId', () => {
  const resolve = (raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
    resolveConfig({ services: {}, ...raw }, { env }).config;

  it('takes a short name of letters, digits and dashes; unset by default', () => {
    expect(resolve({}).instanceId).toBeUndefined();
    for (const id of ['gw1', 'GW-2', 'a', '0', 'eu-west-1a', 'x'.repeat(32)])
      expect(resolve({ instanceId: id }).instanceId).toBe(id);
  });

  it('refuses ids that cannot be a session id prefix, naming the field', () => {
    for (const id of ['', 'gw.1', '-gw', 'gw_1', 'gw 1', 'x'.repeat(33), 'gw/1', 'é']) {
      expect(() => resolve({ instanceId: id }), id).toThrow(ConfigError);
      expect(() => resolve({ instanceId: id }), id).toThrow(/instanceId/);
    }
    expect(() => resolve({ instanceId: 7 })).toThrow(/instanceId/);
  });

  it('is set per process from MCP_GATEWAY__INSTANCE_ID, and a bad value names the variable', () => {
    expect(resolve({}, { MCP_GATEWAY__INSTANCE_ID: 'gw2' }).instanceId).toBe('gw2');
    expect(resolve({ instanceId: 'gw1' }, { MCP_GATEWAY__INSTANCE_ID: 'gw2' }).instanceId).toBe('gw2');
    expect(() => resolve({}, { MCP_GATEWAY__INSTANCE_ID: 'gw.2' })).toThrow(/MCP_GATEWAY__INSTANCE_ID/);
  });

  it('warns on Redis without an instanceId when an instance holds 2025 sessions', () => {
    const redis = { type: 'redis', url: 'redis://127.0.0.1:6379' };
    const withStdio = resolve({ store: redis, services: { demo } });
    expect(instanceWarnings(withStdio)).toEqual([expect.stringMatching(/MCP_GATEWAY__INSTANCE_ID/)]);
    const federatedOnly = resolve({
      store: redis,
      services: { f: { type: 'fetch' } },
      federated: [{ path: '/all', services: ['f'] }],
    });
    expect(instanceWarnings(federatedOnly)).toHaveLength(1);
    expect(instanceWarnings(resolve({ store: redis, admin: { allowStdioServices: true } }))).toHaveLength(1);
    // Set, or nothing held per instance, or one instance by construction: nothing to say.
    expect(instanceWarnings(resolve({ store: redis, services: { demo }, instanceId: 'gw1' }))).toEqual([]);
    expect(instanceWarnings(resolve({ store: redis, services: { f: { type: 'fetch' } } }))).toEqual([]);
    expect(instanceWarnings(resolve({ store: { type: 'memory' }, services: { demo } }))).toEqual([]);
  });
});

describe('session ids of an instance', () => {
  it('with instanceId gw1: a stdio 2025 session id is gw1.<128 random bits>, and its requests are served', async () => {
    const t = await gateway({ instanceId: 'gw1' });
    const ids = [await open(t, '/demo/mcp'), await open(t, '/demo/mcp')];
    for (const id of ids) expect(id).toMatch(/^gw1\.[0-9a-f]{32}$/);
    expect(ids[0]).not.toBe(ids[1]);
    const res = await post(t, '/demo/mcp', listTools, ids[0]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('echo');
    expect(misroutings(t.lines)).toEqual([]);
  });

  it('with instanceId gw1: a federated 2025 session id is gw1.<uuid>, and its requests are served', async () => {
    const t = await gateway({ instanceId: 'gw1' });
    const id = await open(t, '/all');
    expect(id).toMatch(/^gw1\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const res = await post(t, '/all', listTools, id);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('echo');
  });

  it('without instanceId: ids as before (no prefix)', async () => {
    const t = await gateway({});
    expect(await open(t, '/demo/mcp')).toMatch(/^[0-9a-f]{32}$/);
    expect(await open(t, '/all')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a request naming another instance's session: 404 as for any unknown session, and one warning naming that instance", async () => {
    const t = await gateway({ instanceId: 'gw2' });
    const theirs = `gw1.${'ab'.repeat(16)}`;
    for (const path of ['/demo/mcp', '/all'] as const) {
      for (let i = 0; i < 3; i++) {
        const res = await post(t, path, listTools, theirs);
        expect(res.status, path).toBe(404);
        await res.text();
      }
    }
    const del = await t.gw.fetch(
      new Request(`${ISSUER}/all`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${t.tokens.all}`, 'mcp-session-id': theirs },
      }),
    );
    expect(del.status).toBe(404);
    // One per service or endpoint within the minute, each naming the instance; never the whole id.
    const warned = misroutings(t.lines);
    expect(warned).toHaveLength(2);
    for (const w of warned) {
      expect(w.level).toBe('warn');
      expect(w.msg).toContain('"gw1"');
      expect(w.fields).toMatchObject({ sessionInstance: 'gw1', instanceId: 'gw2', requests: 1 });
      expect(JSON.stringify(w)).not.toContain('abab');
    }
    expect(warned.map((w) => w.fields.service ?? w.fields.endpoint).sort()).toEqual(['/all', 'demo']);
    // Its own ids and unprefixed ones (another session that ended, a restart) are not misrouting.
    const own = await post(t, '/demo/mcp', listTools, `gw2.${'cd'.repeat(16)}`);
    const plain = await post(t, '/demo/mcp', listTools, 'cd'.repeat(16));
    expect([own.status, plain.status]).toEqual([404, 404]);
    await Promise.all([own.text(), plain.text()]);
    expect(misroutings(t.lines)).toHaveLength(2);
  });
});

describe('MisroutedSessions', () => {
  it('warns at once, then at most once per interval, counting the requests in between', () => {
    const lines: LogLine[] = [];
    let now = 1_000;
    const m = new MisroutedSessions('gw2', recordingLogger(lines), () => now, 60_000);
    expect(m.check('gw1.x')).toBe(true);
    expect(lines).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect(m.check('gw3.y')).toBe(true);
    now += 59_999;
    m.check('gw1.x');
    expect(lines).toHaveLength(1);
    now += 1;
    m.check('gw3.y');
    expect(lines.map((l) => l.fields)).toEqual([
      { sessionInstance: 'gw1', instanceId: 'gw2', requests: 1 },
      { sessionInstance: 'gw3', instanceId: 'gw2', requests: 7 },
    ]);
    for (const id of [null, undefined, '', 'gw2.x', 'abcdef', '.x', 'a_b.x', 'x'.repeat(33) + '.y'])
      expect(m.check(id), String(id)).toBe(false);
    expect(lines).toHaveLength(2);
  });

  it('without an instanceId of its own, any prefixed id is another instance', () => {
    const lines: LogLine[] = [];
    expect(new MisroutedSessions(undefined, recordingLogger(lines)).check('gw1.x')).toBe(true);
    expect(lines[0]!.fields).toMatchObject({ sessionInstance: 'gw1', instanceId: null });
  });

  it('sessionInstance: the prefix before the first dot, when shaped like an instanceId', () => {
    expect(sessionInstance('gw1.abc')).toBe('gw1');
    expect(sessionInstance('gw1.abc.def')).toBe('gw1');
    expect(sessionInstance('abc')).toBeUndefined();
    expect(sessionInstance('-x.abc')).toBeUndefined();
  });
});
