// Issue 20, federated member replies: a backend that observes its answers hands the reply over
// as an object, and when its answer's text is at hand the member's serialised result is kept
// with it, so the caller's answer is written from that text instead of serialising the result
// again (the JSON-RPC id is the caller's). The backends are small in-process `ServiceBackend`s.
import { eventStreamResponse } from '@mcp-gateway/testkit';
import { describe, expect, it } from 'vitest';
import { lazyResponse } from '@mcp-gateway/internal/lazy-response';
import { memberRequest } from '../src/federation/member.js';
import { rpc } from '../src/gateway/routes/federated-message.js';
import type { BackendCall } from '../src/services/backend.js';
import { alice, inProcessBackend, memberEntry } from './helpers/member-backend.js';

const entry = memberEntry('echoer');
const opts = { identity: alice, timeoutMs: 5000 };

/** A backend that tells its observer of `message` and answers with `text` (`type` as content type). */
function observing(message: Record<string, unknown>, text: string, type = 'application/json') {
  const calls: BackendCall[] = [];
  const backend = inProcessBackend(
    (_request, _identity, call = {}) => {
      calls.push(call);
      call.observer?.onResponse(message);
      return Promise.resolve(lazyResponse(text, { headers: { 'content-type': type } }));
    },
    { observesResponses: true, readsJson: true },
  );
  return { backend, calls };
}

describe('federated member replies', () => {
  it('a backend that reads json gets the message object and no body text', async () => {
    const message = { jsonrpc: '2.0', id: 1, result: { content: [] } };
    const { backend, calls } = observing(message, JSON.stringify(message));
    await memberRequest(entry, backend, 'tools/call', { name: 'echo', _meta: { x: 1 } }, opts);
    expect(calls[0]!.body).toBeUndefined();
    expect(calls[0]!.json).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
    });
    // The caller's own `_meta` never reaches the member as is.
    expect((calls[0]!.json as { params: { _meta: object } }).params._meta).not.toHaveProperty('x');
  });

  it('the observed result keeps the text the member serialised it with; the answer is written from it', async () => {
    const result = { content: [{ type: 'text', text: 'hi "there"' }], resultType: 'complete' };
    const message = { jsonrpc: '2.0', id: 1, result };
    const { backend } = observing(message, JSON.stringify(message));
    const reply = await memberRequest(entry, backend, 'tools/call', { name: 'echo' }, opts);
    expect(reply).toEqual({ result, resultText: JSON.stringify(result) });
    for (const id of ['a "quoted" id', 7, null]) {
      const res = rpc(id, reply);
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id, result });
    }
  });

  it('the text is kept too when the member writes result first (the TypeScript SDK order)', async () => {
    const result = { content: [{ type: 'text', text: 'caf\\u00e9' }] };
    const message = { jsonrpc: '2.0', id: 1, result };
    const text = '{"result":{"content":[{"type":"text","text":"caf\\u00e9"}]},"jsonrpc":"2.0","id":1}';
    const { backend } = observing(message, text);
    const reply = await memberRequest(entry, backend, 'tools/call', { name: 'echo' }, opts);
    expect(reply).toEqual({ result, resultText: '{"content":[{"type":"text","text":"caf\\u00e9"}]}' });
  });

  it('no result text when the answer is not exactly {jsonrpc, id, result} in an SDK order, without whitespace', async () => {
    const result = { content: [] };
    const cases: [Record<string, unknown>, string][] = [
      [
        { jsonrpc: '2.0', id: 1, result, extra: true },
        '{"jsonrpc":"2.0","id":1,"result":{"content":[]},"extra":true}',
      ],
      [{ jsonrpc: '2.0', id: 1, result }, '{"jsonrpc":"2.0","id":1,"result":{"content":[]}}\n'],
      [{ id: 1, jsonrpc: '2.0', result }, '{"id":1,"jsonrpc":"2.0","result":{"content":[]}}'],
    ];
    for (const [message, text] of cases) {
      const { backend } = observing(message, text);
      expect(await memberRequest(entry, backend, 'tools/call', { name: 'echo' }, opts)).toEqual({ result });
    }
  });

  it('an event stream is read, and its response event is that text', async () => {
    const message = { jsonrpc: '2.0', id: 1, result: { content: [] } };
    const sse = `event: message\ndata: ${JSON.stringify(message)}\n\n`;
    const { backend } = observing(message, sse, 'text/event-stream');
    expect(await memberRequest(entry, backend, 'tools/call', { name: 'echo' }, opts)).toEqual({
      result: { content: [] },
      resultText: '{"content":[]}',
    });
  });

  it('an event stream with bare CR line ends and a response over several data lines is read', async () => {
    const sse = [
      ': a comment\r',
      'event: message\rdata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\r\r',
      'event: message\rdata: {"jsonrpc":"2.0","id":1,\rdata:"result":{"content":[]}}\r\r',
    ];
    const backend = inProcessBackend(() => Promise.resolve(eventStreamResponse(sse)));
    expect(await memberRequest(entry, backend, 'tools/call', { name: 'echo' }, opts)).toEqual({
      result: { content: [] },
    });
  });

  it('an answer without result text is serialised as before', async () => {
    const res = rpc('x', { result: { a: 1 } }, { 'mcp-session-id': 's' });
    expect(res.headers.get('mcp-session-id')).toBe('s');
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 'x', result: { a: 1 } });
  });
});
