/**
 * How a federated endpoint hears that a member's lists changed: one
 * 2026-07-28 `subscriptions/listen` stream to the member (a stdio service's
 * bridge, an `http` upstream that speaks 2026), through the member's own
 * `ServiceBackend.handle`, for one user. The built-in `fetch` service has a
 * fixed list: nothing to listen to.
 */
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import type { Identity } from '../identity.js';
import type { ServiceBackend } from '../services/backend.js';
import type { ServiceEntry } from '../services/registry.js';
import { MEMBER_PROTOCOL_VERSION, syntheticRequest } from './member.js';

/** The list kinds whose changes are merged, with their notification methods. */
export const LIST_CHANGED = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
} as const;
export type ChangedKind = keyof typeof LIST_CHANGED;

const KIND_OF = new Map<string, ChangedKind>(
  Object.entries(LIST_CHANGED).map(([k, m]) => [m, k as ChangedKind]),
);

/** The `subscriptions/listen` filter asking for every list kind. */
const FILTER = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };

/** True when `entry` can tell of list changes (everything but the fixed-list `fetch` service). */
export const watchable = (entry: ServiceEntry): boolean => entry.config.type !== 'fetch';

/** An open member listen: `ready` settles once acknowledged (or failed); `close` ends it. */
export interface MemberWatch {
  ready: Promise<void>;
  close(): void;
}

/**
 * Opens `subscriptions/listen` on `entry` for `identity`; `onChange` is told
 * each list kind the member says changed, `onEnd` when the stream ends by
 * itself (refused, member gone). `ready` never rejects: a member that cannot
 * listen is simply not heard, and resolves after at most `timeoutMs`.
 */
export function watchMember(
  entry: ServiceEntry,
  backend: ServiceBackend,
  identity: Identity,
  timeoutMs: number,
  onChange: (kind: ChangedKind) => void,
  onEnd: () => void,
): MemberWatch {
  const controller = new AbortController();
  let acknowledged: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    acknowledged = resolve;
    setTimeout(resolve, timeoutMs).unref();
  });
  const message = {
    jsonrpc: '2.0',
    id: 1,
    method: 'subscriptions/listen',
    params: {
      notifications: FILTER,
      _meta: {
        [MCP_META_KEYS.clientCapabilities]: {},
        [MCP_META_KEYS.protocolVersion]: MEMBER_PROTOCOL_VERSION,
      },
    },
  };
  const body = JSON.stringify(message);
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MEMBER_PROTOCOL_VERSION,
    'mcp-method': 'subscriptions/listen',
  };
  const request = syntheticRequest(entry.route.resource, headers, body, controller.signal);
  void (async () => {
    try {
      const res = await backend.handle(request, identity, { body, json: message, info: {} });
      if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) return;
      await readEvents(res.body, controller.signal, (msg) => {
        if (msg.method === 'notifications/subscriptions/acknowledged') acknowledged();
        const kind = typeof msg.method === 'string' ? KIND_OF.get(msg.method) : undefined;
        if (kind) onChange(kind);
      });
    } catch {
      // A member that fails to listen is not heard; its calls still work.
    } finally {
      acknowledged();
      if (!controller.signal.aborted) onEnd();
    }
  })();
  return { ready, close: () => controller.abort() };
}

/** Reads an SSE body and hands each JSON `data:` message to `onMessage` until it ends or `signal` aborts. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onMessage: (msg: { method?: unknown }) => void,
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
          onMessage(JSON.parse(line.slice(5).trim()) as { method?: unknown });
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
