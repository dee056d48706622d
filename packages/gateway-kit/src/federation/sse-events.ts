/**
 * Reading a member's `text/event-stream` answer: each JSON message of its
 * events, for list-change watches (`watch.ts`) and the calls of 2025-only
 * members (`legacy-input.ts`) and resource subscriptions
 * (`member-subscription.ts`). The stream itself is read by the one reader in
 * `@mcp-gateway/internal/sse-reader` (LF, CRLF or bare CR line ends,
 * multi-line `data:`).
 */
import { readSseData } from '@mcp-gateway/internal/sse-reader';

/** Most characters of one event (its data and the line not yet ended) read from a member's stream. */
const MAX_MEMBER_EVENT_LENGTH = 1_000_000;

/** A member's event past {@link MAX_MEMBER_EVENT_LENGTH}: the stream is let go. */
class MemberEventTooLarge extends Error {
  constructor() {
    super(`a member's event was longer than ${MAX_MEMBER_EVENT_LENGTH} characters`);
    this.name = 'MemberEventTooLarge';
  }
}

const tooLarge = () => new MemberEventTooLarge();

/**
 * Reads an SSE body and hands each event's JSON message to `onMessage` (events
 * whose data is not JSON are skipped) until the body ends or `signal` aborts;
 * the body is cancelled either way. An event longer than
 * {@link MAX_MEMBER_EVENT_LENGTH} rejects with {@link MemberEventTooLarge}, as
 * an error of the body itself does: every caller ends its stream on either.
 */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onMessage: (msg: { method?: unknown; params?: unknown }) => void,
): Promise<void> {
  for await (const data of readSseData(body, { maxEventLength: MAX_MEMBER_EVENT_LENGTH, tooLarge, signal })) {
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      continue; // not JSON: ignored
    }
    if (typeof msg === 'object' && msg !== null) onMessage(msg);
  }
}
