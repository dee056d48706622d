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
import { LEGACY_MEMBER_VERSION, refusesModern } from './legacy-member.js';
import { MEMBER_PROTOCOL_VERSION, syntheticRequest, type MemberReply } from './member.js';
import { readEvents } from './sse-events.js';

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

/** Told of a member's changes (`onChange`) and of its watch ending by itself (`onEnd`; `refused`: it speaks only 2025). */
export interface WatchEvents {
  onChange(kind: ChangedKind): void;
  onEnd(refused: boolean): void;
}

/**
 * Opens `subscriptions/listen` on `entry` for `identity`. `ready` never
 * rejects: a member that cannot listen is simply not heard, and it resolves
 * after at most `timeoutMs`.
 */
export function watchMember(
  entry: ServiceEntry,
  backend: ServiceBackend,
  identity: Identity,
  timeoutMs: number,
  events: WatchEvents,
): MemberWatch {
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
  return openWatch(timeoutMs, events, (signal) =>
    backend.handle(syntheticRequest(entry.route.resource, headers, body, signal), identity, {
      body,
      json: message,
      info: {},
    }),
  );
}

/**
 * The 2025 way: the `GET` event stream of a session with a 2025-only
 * member (`sessionId` opens or finds it); ready once the stream is open.
 */
export function watchLegacyMember(
  entry: ServiceEntry,
  backend: ServiceBackend,
  identity: Identity,
  sessionId: () => Promise<string | undefined>,
  timeoutMs: number,
  events: WatchEvents,
): MemberWatch {
  return openWatch(
    timeoutMs,
    events,
    async (signal) => {
      const id = await sessionId();
      if (!id) return new Response(null, { status: 502 });
      const headers = {
        accept: 'text/event-stream',
        'mcp-protocol-version': LEGACY_MEMBER_VERSION,
        'mcp-session-id': id,
      };
      const request = new Request(entry.route.resource, { method: 'GET', headers, signal });
      return backend.handle(request, identity);
    },
    true,
  );
}

/** Runs one watch: `open` gives the member's answer, whose event stream is read until closed. */
function openWatch(
  timeoutMs: number,
  events: WatchEvents,
  open: (signal: AbortSignal) => Promise<Response>,
  readyOnOpen = false,
): MemberWatch {
  const controller = new AbortController();
  let settle: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    settle = resolve;
    setTimeout(resolve, timeoutMs).unref();
  });
  let refused = false;
  void (async () => {
    try {
      const res = await open(controller.signal);
      if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
        refused = refusesModern(await replyOf(res));
        return;
      }
      // A 2025 stream has no acknowledgement: open is ready.
      if (readyOnOpen) settle();
      await readEvents(res.body, controller.signal, (msg) => {
        if (msg.method === 'notifications/subscriptions/acknowledged') settle();
        const kind = typeof msg.method === 'string' ? KIND_OF.get(msg.method) : undefined;
        if (kind) events.onChange(kind);
      });
    } catch {
      // A member that fails to listen is not heard; its calls still work.
    } finally {
      settle();
      if (!controller.signal.aborted) events.onEnd(refused);
    }
  })();
  return { ready, close: () => controller.abort() };
}

/** The JSON-RPC error of a non-stream answer, as a reply (anything else: an empty result). */
async function replyOf(res: Response): Promise<MemberReply> {
  try {
    const msg = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = msg.error ?? {};
    if (typeof code === 'number' && typeof message === 'string') return { error: { code, message } };
  } catch {
    // not JSON
  }
  return { result: {} };
}
