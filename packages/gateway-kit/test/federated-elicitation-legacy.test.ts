// Issue 20, input requests of a 2025-only `http` member (src/federation/legacy-input.ts): a
// real SDK 1.x Streamable HTTP server that speaks only 2025 sessions asks for elicitation or
// roots on the event stream of a tool call inside the session the federated endpoint opened
// with it. A federated 2025 session (MCP SDK 1.x client) gets each request relayed on the
// call's stream and its answer is POSTed back to the member's session; a 2026-07-28 caller
// gets a clear JSON-RPC error.
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ElicitRequestSchema,
  ElicitResultSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { request2026 } from '@mcp-gateway/testkit';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LegacyInputs, MemberEvents } from '../src/federation/legacy-input.js';
import { elicit, federatedInput, textOf, type FederatedInput } from './helpers/federated-input.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';

let fx: FederatedInput;
let old: LegacyServer;
/** What the member's tools got back from the client, in order. */
const answers: unknown[] = [];

const NAME_SCHEMA = {
  type: 'object' as const,
  properties: { name: { type: 'string' as const } },
  required: ['name'],
};

/** The member's tools: each asks the client during the call, in the call's own stream. */
function tools(mcp: McpServer) {
  mcp.registerTool('ask-name', { inputSchema: { message: z.string() } }, async ({ message }, extra) => {
    const r = await mcp.server
      .elicitInput({ message, requestedSchema: NAME_SCHEMA }, { relatedRequestId: extra.requestId })
      .catch((err: Error) => {
        answers.push({ refused: err.message });
        throw err;
      });
    answers.push(r);
    const text = r.action === 'accept' ? `hello ${String(r.content?.name)}` : `hello (${r.action})`;
    return { content: [{ type: 'text', text }] };
  });
  mcp.registerTool('ask-twice', {}, async (extra) => {
    const names: string[] = [];
    for (const message of ['First name?', 'Last name?']) {
      const r = await mcp.server.elicitInput(
        { message, requestedSchema: NAME_SCHEMA },
        { relatedRequestId: extra.requestId },
      );
      names.push(String(r.content?.name));
    }
    return { content: [{ type: 'text', text: `hello ${names.join(' ')}` }] };
  });
  mcp.registerTool('roots', {}, async (extra) => {
    const r = await mcp.server.listRoots(undefined, { relatedRequestId: extra.requestId });
    return { content: [{ type: 'text', text: r.roots.map((root) => root.uri).join(',') }] };
  });
  // Asks without looking at the client's capabilities (the SDK's sendRequest does not check them).
  mcp.registerTool('ask-anyway', {}, async (extra) => {
    try {
      const r = await extra.sendRequest(
        { method: 'elicitation/create', params: { message: 'Name?', requestedSchema: NAME_SCHEMA } },
        ElicitResultSchema,
      );
      answers.push(r);
      return { content: [{ type: 'text', text: 'answered' }] };
    } catch (err) {
      answers.push({ refused: (err as Error).message });
      return { content: [{ type: 'text', text: 'refused' }], isError: true };
    }
  });
}

beforeAll(async () => {
  old = await legacyMcpServer(tools);
  fx = await federatedInput({ old: { type: 'http', url: `${old.url}/mcp` } }, { timeout: 10 });
});

afterAll(async () => {
  await old?.close();
});

describe('a 2025-only http member asks for input inside its own session', () => {
  it('elicitation: relayed to the federated 2025 session, the answer reaches the member, the call completes', async () => {
    const asked: string[] = [];
    await fx.withSdk1({ elicitation: {} }, elicit.acceptAda(asked), async (client) => {
      const r = await client.callTool({ name: 'ask-name', arguments: { message: 'Your name?' } });
      expect(textOf(r)).toBe('hello Ada');
      expect(asked).toEqual(['Your name?']);
      // The member's own session was used: it saw the client's capability and got the answer.
      expect(answers.at(-1)).toEqual({ action: 'accept', content: { name: 'Ada' } });
    });
  });

  it('two rounds in one call: each elicitation is relayed in turn on the same member stream', async () => {
    await fx.withSdk1({ elicitation: {} }, elicit.acceptFirstAndLast, async (client) => {
      const r = await client.callTool({ name: 'ask-twice', arguments: {} });
      expect(textOf(r)).toBe('hello Ada Lovelace');
      // The same member session serves the next call (its requests have ids of their own).
      expect(textOf(await client.callTool({ name: 'ask-name', arguments: { message: 'Again?' } }))).toBe(
        'hello Lovelace',
      );
      expect(old.opened.length).toBeGreaterThan(0);
    });
  });

  it('roots/list is relayed the same way', async () => {
    const roots = (c: ClientV1) =>
      c.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: 'file:///work' }] }));
    await fx.withSdk1({ roots: {} }, roots, async (client) => {
      expect(textOf(await client.callTool({ name: 'roots', arguments: {} }))).toBe('file:///work');
    });
  });

  it('a declined elicitation reaches the member as declined', async () => {
    await fx.withSdk1({ elicitation: {} }, elicit.decline, async (client) => {
      const r = await client.callTool({ name: 'ask-name', arguments: { message: 'Your name?' } });
      expect(textOf(r)).toBe('hello (decline)');
    });
  });

  it("the client's error ends the call with it, and the member gets it as its answer", async () => {
    const refuse = (c: ClientV1) =>
      c.setRequestHandler(ElicitRequestSchema, () => {
        throw new Error('no thanks');
      });
    await fx.withSdk1({ elicitation: {} }, refuse, async (client) => {
      await expect(
        client.callTool({ name: 'ask-name', arguments: { message: 'Your name?' } }),
      ).rejects.toMatchObject({ message: expect.stringMatching(/the client refused elicitation\/create/) });
      await expect.poll(() => answers.at(-1)).toMatchObject({ refused: expect.stringMatching(/no thanks/) });
    });
  });

  it("the member's session declares only the capabilities the federated session's client declared", async () => {
    await fx.withSdk1({}, undefined, async (client) => {
      // The SDK server checks them itself: without elicitation its tool fails on its own.
      const r = await client.callTool({ name: 'ask-name', arguments: { message: 'Your name?' } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/does not support form elicitation/);
    });
  });

  it('a 2026-07-28 caller: the request is refused with a clear JSON-RPC error, and the member is answered', async () => {
    const { headers, body } = request2026(
      'tools/call',
      { name: 'ask-anyway', arguments: {} },
      { capabilities: { elicitation: {} } },
    );
    const res = await fetch(`${fx.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${fx.token}` },
      body,
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { error?: { code: number; message: string } };
    expect(answer.error).toMatchObject({
      code: -32603,
      message: expect.stringMatching(/elicitation\/create.*2025 sessions only/),
    });
    // The member's request did not hang: it got an error answer.
    await expect
      .poll(() => answers.at(-1))
      .toMatchObject({ refused: expect.stringMatching(/2025 sessions/) });
  });
});

/**
 * A member's call stream: `write` sends one JSON-RPC message as an SSE event (one chunk), its
 * lines ended with `eol`; `pretty` spreads the message over several `data:` lines.
 */
function memberStream(eol = '\n', pretty = false) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const write = (m: object) => {
    const data = JSON.stringify(m, null, pretty ? 1 : undefined).split('\n');
    const event = ['event: message', ...data.map((d) => `data: ${d}`), '', ''].join(eol);
    controller.enqueue(new TextEncoder().encode(event));
  };
  return { events: new MemberEvents(body), write };
}

describe('LegacyInputs: the bounds of calls waiting for input', () => {
  const call = (owner: string, posted: object[], events: MemberEvents) => ({
    owner,
    service: 'old',
    callId: 7,
    events,
    relays: true,
    timeoutMs: 5_000,
    post: async (m: object) => void posted.push(m),
  });
  const ask = { jsonrpc: '2.0', id: 'm1', method: 'elicitation/create', params: { message: 'q' } };

  it('a call waits at most answerTimeoutMs: then the member is told and its stream closed', async () => {
    const inputs = new LegacyInputs({ maxPendingPerSession: 4, answerTimeoutMs: 30 });
    const posted: object[] = [];
    const s = memberStream();
    s.write(ask);
    const first = await inputs.follow(call('s1', posted, s.events));
    expect(first).toMatchObject({
      result: {
        resultType: 'input_required',
        inputRequests: { 'input-1': { method: ask.method, params: ask.params } },
      },
    });
    expect(inputs.size).toBe(1);
    await expect
      .poll(() => posted)
      .toEqual([{ jsonrpc: '2.0', id: 'm1', error: expect.objectContaining({ code: -32001 }) }]);
    expect(inputs.size).toBe(0);
    const state = (first as { result: { requestState: string } }).result.requestState;
    expect(await inputs.resume('s1', 'old', state, {})).toMatchObject({ error: { code: -32602 } });
  });

  it('a member stream with bare CR line ends and messages over several data lines is read as it comes', async () => {
    const inputs = new LegacyInputs({ maxPendingPerSession: 1, answerTimeoutMs: 60_000 });
    const posted: object[] = [];
    const s = memberStream('\r', true);
    s.write(ask);
    // Each event's last CR ends its chunk: the event is read without waiting for the next one.
    const first = await inputs.follow(call('s1', posted, s.events));
    expect(first).toMatchObject({
      result: { resultType: 'input_required', inputRequests: { 'input-1': { method: ask.method } } },
    });
    s.write({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'done' }] } });
    const state = (first as { result: { requestState: string } }).result.requestState;
    const done = await inputs.resume('s1', 'old', state, { 'input-1': { action: 'cancel' } });
    expect(done).toEqual({ result: { content: [{ type: 'text', text: 'done' }] } });
    inputs.close('s1');
  });

  it('at most maxPendingPerSession calls of an owner wait; a retry by another owner is refused', async () => {
    const inputs = new LegacyInputs({ maxPendingPerSession: 1, answerTimeoutMs: 60_000 });
    const posted: object[] = [];
    const a = memberStream();
    a.write(ask);
    const first = await inputs.follow(call('s1', posted, a.events));
    const b = memberStream();
    b.write({ ...ask, id: 'm2' });
    expect(await inputs.follow(call('s1', posted, b.events))).toMatchObject({ error: { code: -32603 } });
    expect(posted).toEqual([expect.objectContaining({ id: 'm2', error: expect.anything() })]);
    const state = (first as { result: { requestState: string } }).result.requestState;
    expect(await inputs.resume('s2', 'old', state, {})).toMatchObject({ error: { code: -32602 } });
    // The owner's retry posts the answer and reads on to the call's response.
    a.write({ jsonrpc: '2.0', id: 7, result: { content: [] } });
    const done = await inputs.resume('s1', 'old', state, { 'input-1': { action: 'cancel' } });
    expect(done).toEqual({ result: { content: [] } });
    expect(posted.at(-1)).toEqual({ jsonrpc: '2.0', id: 'm1', result: { action: 'cancel' } });
    inputs.close('s1');
    expect(inputs.size).toBe(0);
  });
});
