/** One stored SSE event: the stream it belongs to, its sequence number there, and its `data`. */
export interface StoredEvent {
  stream: number;
  seq: number;
  data: Buffer;
}

/** Bounds of a session's event store. */
export interface EventStoreLimits {
  /** Most events kept; the oldest go first. */
  maxEvents: number;
  /** Most bytes of event data kept; the oldest go first. */
  maxBytes: number;
}

/** Formats an SSE event id: `<stream>-<seq>`, both session-local counters. */
export function formatEventId(stream: number, seq: number): string {
  return `${stream}-${seq}`;
}

/** Parses an id made by {@link formatEventId}; `undefined` when malformed. */
export function parseEventId(id: string): { stream: number; seq: number } | undefined {
  const m = /^(\d{1,9})-(\d{1,15})$/.exec(id);
  if (!m) return undefined;
  return { stream: Number(m[1]), seq: Number(m[2]) };
}

/**
 * A session's resumability buffer (MCP Streamable HTTP, "Resumability and
 * Redelivery"): every event sent with an id is kept here, bounded in count
 * and bytes, so a client that reconnects with `Last-Event-ID` gets what it
 * missed on that stream.
 */
export class EventStore {
  private events: StoredEvent[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly limits: EventStoreLimits) {}

  /** Number of events held. */
  get size(): number {
    return this.events.length - this.head;
  }

  /** Bytes of event data held. */
  get byteSize(): number {
    return this.bytes;
  }

  /** Stores an event; evicts the oldest ones beyond the limits. `data` is kept as given. */
  append(stream: number, seq: number, data: Buffer): void {
    this.events.push({ stream, seq, data });
    this.bytes += data.length;
    while (this.size > this.limits.maxEvents || (this.bytes > this.limits.maxBytes && this.size > 0)) {
      const old = this.events[this.head]!;
      this.bytes -= old.data.length;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  /** Calls `send` for each stored event of `stream` after `seq`, oldest first. */
  replayAfter(stream: number, seq: number, send: (event: StoredEvent) => void): number {
    let n = 0;
    for (let i = this.head; i < this.events.length; i++) {
      const ev = this.events[i]!;
      if (ev.stream === stream && ev.seq > seq) {
        send(ev);
        n++;
      }
    }
    return n;
  }
}
