/**
 * Reading a member's `text/event-stream` answer: each JSON message of its
 * `data:` lines, for list-change watches (`watch.ts`) and the calls of
 * 2025-only members (`legacy-input.ts`) and resource subscriptions
 * (`member-subscription.ts`).
 */

/** Reads an SSE body and hands each JSON `data:` message to `onMessage` until it ends or `signal` aborts. */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onMessage: (msg: { method?: unknown; params?: unknown }) => void,
): Promise<void> {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (!line.startsWith('data:')) continue;
        try {
          onMessage(JSON.parse(line.slice(5).trim()) as { method?: unknown; params?: unknown });
        } catch {
          // not JSON: ignored
        }
      }
      // A line longer than 1 MB without an end is not an event we want.
      if (buffer.length > 1_000_000) return;
    }
  } finally {
    signal.removeEventListener('abort', cancel);
    cancel();
  }
}
