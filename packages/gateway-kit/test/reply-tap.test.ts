// The reply tap: a backend's answer read on its way to the client (never changed), each JSON-RPC
// message of a JSON body or of an event stream's events handed to a watcher. The stream's events
// are read by the one event-stream reader (@mcp-gateway/internal/sse-reader).
import { eventStreamResponse } from '@mcp-gateway/testkit';
import { describe, expect, it } from 'vitest';
import { tapReplies, type ReplyWatcher } from '../src/gateway/reply-tap.js';

/** A watcher that keeps what it was handed, satisfied once it saw a message with id `until`. */
function watcher(until?: unknown) {
  const seen: Readonly<Record<string, unknown>>[] = [];
  let ended = 0;
  const w: ReplyWatcher = {
    onResponse: (m) => void seen.push(m),
    get satisfied() {
      return until !== undefined && seen.some((m) => m.id === until);
    },
    ended: () => void ended++,
  };
  return { w, seen, ended: () => ended };
}

describe('reply tap', () => {
  it('reads an event stream with bare CR line ends, a CRLF split across chunks and multi-line data; the body passes unchanged', async () => {
    const chunks = [
      ': hello\r',
      'event: message\rdata: {"jsonrpc":"2.0","method":"notifications/progress"}\r\r',
      'data: {"jsonrpc":"2.0",\r\n',
      'data: "id":1,"result":{}}\r',
      '\n\r\n',
    ];
    const { w, seen, ended } = watcher();
    const tapped = tapReplies(eventStreamResponse(chunks), w);
    expect(await tapped.text()).toBe(chunks.join(''));
    expect(seen).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress' },
      { jsonrpc: '2.0', id: 1, result: {} },
    ]);
    expect(ended()).toBe(1);
  });

  it('stops reading once the watcher is satisfied; a JSON body is read whole', async () => {
    const events = ['data: {"id":1,"result":{}}\n\n', 'data: {"id":2,"result":{}}\n\n'];
    const first = watcher(1);
    await tapReplies(eventStreamResponse(events), first.w).text();
    expect(first.seen).toEqual([{ id: 1, result: {} }]);
    expect(first.ended()).toBe(1);

    const json = watcher();
    await tapReplies(Response.json([{ id: 3, result: {} }]), json.w).text();
    expect(json.seen).toEqual([{ id: 3, result: {} }]);
  });
});
