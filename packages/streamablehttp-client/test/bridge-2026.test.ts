import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@mcp-gateway/testkit';
import { EraCache, StdioBridge } from '../src/index.js';
import { modernServersPerTest, type ModernServer } from './helpers/modern-server.js';

type Msg = Record<string, unknown> & { id?: unknown; method?: string; params?: Record<string, unknown> };

const { closers, modern } = modernServersPerTest();

/**
 * A stdio host driving the bridge in front of a 2026-07-28 server. `answers`
 * maps the methods the host serves to the result it gives.
 */
function startHost(s: ModernServer, answers: Record<string, unknown> = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const messages: Msg[] = [];
  const send = (m: Record<string, unknown>) => input.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
  let buffer = '';
  output.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const m = JSON.parse(buffer.slice(0, i)) as Msg;
      buffer = buffer.slice(i + 1);
      messages.push(m);
      if (m.method && m.id !== undefined) send({ id: m.id, result: answers[m.method] ?? {} });
    }
  });
  const bridge = new StdioBridge({ url: new URL(s.mcpUrl), input, output, eraCache: new EraCache() });
  const done = bridge.run();
  closers.push(async () => {
    input.end();
    await done;
  });
  const request = async (id: number, method: string, params: Record<string, unknown> = {}) => {
    send({ id, method, params });
    return (await waitFor(() => messages.find((m) => m.id === id && !m.method), {
      timeoutMs: 15_000,
      message: `no answer to ${id}`,
    }))!;
  };
  return { request, messages, send };
}

/** A 2025 stdio host (what Claude Desktop speaks): `initialize` with `capabilities` first. */
async function hostFor(
  s: ModernServer,
  capabilities: Record<string, unknown>,
  answers: Record<string, unknown> = {},
) {
  const { request, messages, send } = startHost(s, answers);
  const init = await request(0, 'initialize', {
    protocolVersion: '2025-06-18',
    capabilities,
    clientInfo: { name: 'desktop-host', version: '1.2' },
  });
  send({ method: 'notifications/initialized' });
  return { init, request, messages, send };
}

const textOf = (m: Msg) => (m.result as { content: Array<{ text: string }> }).content[0]!.text;

describe('bridge: a 2025 stdio host in front of a 2026-07-28 server', () => {
  it("the host's initialize is answered from server/discover (serverInfo, capabilities, instructions); nothing is initialized upstream", async () => {
    const s = await modern();
    const host = await hostFor(s, {});
    expect(host.init.result).toEqual({
      protocolVersion: '2025-06-18',
      capabilities: { tools: { listChanged: true }, logging: {} },
      serverInfo: { name: 'modern-test-server', version: '2.0.0' },
      instructions: 'Use echo to test headers.',
    });
    expect((await host.request(1, 'ping')).result).toEqual({});
    const list = await host.request(2, 'tools/list');
    expect((list.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name)).toEqual([
      'echo',
      'confirm',
      'two_rounds',
      'progress',
      'busy',
      'many_inputs',
    ]);
    expect(s.seen.map((r) => r.method)).not.toContain('initialize');
    // Later requests carry the host's clientInfo.
    expect(s.seen.at(-1)!.params._meta).toMatchObject({
      'io.modelcontextprotocol/clientInfo': { name: 'desktop-host', version: '1.2' },
    });
  });

  it('sep-2322: input_required becomes an elicitation/create to the host; its answer goes back with a new id, inputResponses and the exact requestState', async () => {
    const s = await modern();
    const host = await hostFor(
      s,
      { elicitation: {} },
      { 'elicitation/create': { action: 'accept', content: { yes: true } } },
    );
    const answer = await host.request(3, 'tools/call', { name: 'confirm', arguments: {} });
    expect(textOf(answer)).toBe('confirmed: accept {"yes":true}');
    const asked = host.messages.filter((m) => m.method === 'elicitation/create');
    expect(asked).toHaveLength(1);
    expect(asked[0]!.params).toMatchObject({ message: 'Go on?' });
    const calls = s.seen.filter((r) => r.method === 'tools/call');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.id).not.toEqual(calls[0]!.id);
    expect(calls[1]!.params).toMatchObject({
      requestState: 'confirm-1',
      inputResponses: { ok: { action: 'accept', content: { yes: true } } },
    });
    expect(calls[0]!.params._meta).toMatchObject({
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
    });
  });

  it('sep-2322: several rounds (roots/list, then sampling/createMessage), each retried with the state of the round before', async () => {
    const s = await modern();
    const host = await hostFor(
      s,
      { roots: { listChanged: true }, sampling: {} },
      {
        'roots/list': { roots: [{ uri: 'file:///work' }] },
        'sampling/createMessage': { role: 'assistant', content: { type: 'text', text: 'yo' }, model: 'm' },
      },
    );
    const answer = await host.request(4, 'tools/call', { name: 'two_rounds', arguments: {} });
    expect(textOf(answer)).toBe('round-3:file:///work sample=yo');
    expect(host.messages.filter((m) => m.method && m.id !== undefined).map((m) => m.method)).toEqual([
      'roots/list',
      'sampling/createMessage',
    ]);
    expect(s.seen.filter((r) => r.method === 'tools/call').map((r) => r.params.requestState)).toEqual([
      undefined,
      'round-2',
      'round-3:file:///work',
    ]);
  });

  it('a host that declared no elicitation is never asked; the server refusal (-32021) reaches it as the answer', async () => {
    const s = await modern();
    const host = await hostFor(s, {});
    const answer = await host.request(5, 'tools/call', { name: 'confirm', arguments: {} });
    expect(answer.error).toMatchObject({ code: -32021 });
    expect(host.messages.filter((m) => m.method === 'elicitation/create')).toEqual([]);
  });

  it('logging/setLevel is kept by the bridge and sent as _meta logLevel; progress and log messages reach the host', async () => {
    const s = await modern();
    const host = await hostFor(s, {});
    const before = await host.request(6, 'tools/call', { name: 'progress', arguments: {} });
    expect(textOf(before)).toBe('progress done (log level undefined)');
    expect((await host.request(7, 'logging/setLevel', { level: 'info' })).result).toEqual({});
    const after = await host.request(8, 'tools/call', {
      name: 'progress',
      arguments: {},
      _meta: { progressToken: 'p1' },
    });
    expect(textOf(after)).toBe('progress done (log level info)');
    expect(host.messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params)).toEqual([
      { progressToken: 'p1', progress: 1, total: 1 },
    ]);
    expect(host.messages.filter((m) => m.method === 'notifications/message')).toHaveLength(1);
    expect(s.seen.filter((r) => r.method === 'logging/setLevel')).toEqual([]);
  });

  it('subscriptions/listen replaces the GET stream: a tools list change reaches the host', async () => {
    const s = await modern();
    const host = await hostFor(s, {});
    const listen = await waitFor(() => s.seen.find((r) => r.method === 'subscriptions/listen'), {
      timeoutMs: 10_000,
      message: 'no subscriptions/listen',
    });
    expect(listen!.params.notifications).toEqual({ toolsListChanged: true });
    await waitFor(
      () => {
        s.toolsChanged();
        return host.messages.find((m) => m.method === 'notifications/tools/list_changed');
      },
      { timeoutMs: 10_000, message: 'no list_changed at the host' },
    );
    expect(host.messages.filter((m) => m.method === 'notifications/subscriptions/acknowledged')).toEqual([]);
  });

  it('a 2026-07-28 host (its own envelope) gets server/discover and input_required results as they are, with its capabilities and clientInfo kept', async () => {
    const s = await modern();
    const host = startHost(s);
    const envelope = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
      'io.modelcontextprotocol/clientInfo': { name: 'modern-host', version: '3' },
    };
    const discover = await host.request(1, 'server/discover', { _meta: envelope });
    expect(discover.result).toMatchObject({ supportedVersions: ['2026-07-28'] });
    const answer = await host.request(2, 'tools/call', { name: 'confirm', arguments: {}, _meta: envelope });
    expect(answer.result).toMatchObject({ resultType: 'input_required', requestState: 'confirm-1' });
    expect(host.messages.filter((m) => m.method === 'elicitation/create')).toEqual([]);
    expect(s.seen.at(-1)!.params._meta).toEqual(envelope);
  });
});
