import { createHmac, randomUUID } from 'node:crypto';
import type { WebhookConfig, WebhookEvent } from '../config/schema.js';
import type { Logger } from './logger.js';

/** An audit event as delivered to webhooks. */
export interface AuditEvent {
  /** Event family: `login`, `registration`, `tool_call`, `revocation`, `consent`, `token`, `service`. */
  type: Exclude<WebhookEvent, '*'>;
  /** Precise name, e.g. `login.failed`, `client.registered`, `tool.called`. */
  action: string;
  /** Free-form details; secrets are removed before delivery. */
  data: Record<string, unknown>;
}

/** Body of a webhook POST. */
export interface WebhookPayload extends AuditEvent {
  id: string;
  time: string;
}

/** Keys whose values never leave the gateway, whatever the config says. */
const SECRET_KEY = /token|secret|password|authorization|cookie|^code$|verifier|assertion/i;

/** Removes secrets (always) and tool arguments (unless asked for) from event data. */
export function sanitize(data: Record<string, unknown>, includeArguments: boolean): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_KEY.test(k)) continue;
        out[k] = walk(x);
      }
      return out;
    }
    return v;
  };
  const copy = { ...data };
  if (!includeArguments) delete copy.arguments;
  return walk(copy) as Record<string, unknown>;
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as sent in the legacy `X-MCP-Signature`. */
export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The HMAC key of a hook secret, as Standard Webhooks libraries read it: a
 * `whsec_<base64>` secret is the base64-decoded bytes; any other secret is its
 * UTF-8 bytes (give receivers `whsec_` + base64 of it).
 */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/**
 * The Standard Webhooks signature header value: `v1,<base64 HMAC-SHA256 of
 * "{id}.{timestamp}.{body}">`, with `timestamp` in whole seconds since the epoch.
 * Receivers refuse replays by checking the timestamp's age and the id.
 */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** Most deliveries queued or in retry at once, over all hooks, unless configured. */
export const DEFAULT_MAX_PENDING_DELIVERIES = 1000;

/** Most bytes of bodies queued or in retry at once, over all hooks, unless configured (64 MiB). */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Share of `maxPending` one user's events may hold at once, unless configured. */
const DEFAULT_USER_SHARE = 0.1;

export interface WebhookDispatcherOptions {
  hooks: WebhookConfig[];
  logger?: Logger;
  /** Backoff before retry n (1-based); default 1 s × 2^(n-1), at most 60 s. */
  backoffMs?: (attempt: number) => number;
  /** Waits; injectable so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
  onDelivery?: (outcome: 'delivered' | 'retry' | 'failed' | 'dropped') => void;
  fetch?: typeof fetch;
  now?: () => Date;
  /**
   * Most deliveries in flight or waiting for a retry, over all hooks (default
   * {@link DEFAULT_MAX_PENDING_DELIVERIES}). Events beyond it are dropped and
   * counted (`dropped`), so a dead receiver cannot grow the queue without end.
   */
  maxPending?: number;
  /**
   * Most bytes of bodies in flight or waiting for a retry, over all hooks (default
   * {@link DEFAULT_MAX_PENDING_BYTES}): tool-call events carry their arguments when a hook
   * asks for them, so a count alone does not bound memory. Events beyond it are dropped.
   */
  maxPendingBytes?: number;
  /**
   * Most deliveries of one user's events (their `data.user`) pending at once (default a
   * tenth of `maxPending`, at least 1), so that one user's calls cannot fill the queue and
   * crowd out everyone else's events. Events beyond it are dropped.
   */
  maxPendingPerUser?: number;
}

/** One delivery waiting or in flight: what it holds, for the bounds. */
interface Held {
  bytes: number;
  user: string | undefined;
}

/**
 * Delivers audit events to the configured URLs as Standard Webhooks: JSON POSTs
 * with `webhook-id`, `webhook-timestamp` and `webhook-signature` (plus the legacy
 * `X-MCP-Signature`), retried with exponential backoff on network errors, 408,
 * 429 and 5xx; every attempt carries the same id and a fresh timestamp and
 * signature. Delivery runs in the background and never blocks or fails the
 * request that caused the event; at most `maxPending` deliveries wait at once.
 */
export class WebhookDispatcher {
  private readonly pending = new Set<Promise<void>>();
  private pendingBytes = 0;
  private readonly perUser = new Map<string, number>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backoff: (attempt: number) => number;
  private readonly fetchImpl: typeof fetch;
  private readonly maxPending: number;
  private readonly maxPendingBytes: number;
  private readonly maxPendingPerUser: number;
  private droppedSinceLog = 0;

  constructor(private readonly opts: WebhookDispatcherOptions) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
    this.backoff = opts.backoffMs ?? ((n) => Math.min(60_000, 1000 * 2 ** (n - 1)));
    this.fetchImpl = opts.fetch ?? fetch;
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING_DELIVERIES;
    this.maxPendingBytes = opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.maxPendingPerUser =
      opts.maxPendingPerUser ?? Math.max(1, Math.floor(this.maxPending * DEFAULT_USER_SHARE));
  }

  /** Deliveries in flight or waiting for a retry now. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True when some hook wants this event type. */
  wants(type: AuditEvent['type']): boolean {
    return this.opts.hooks.some((h) => h.events.includes('*') || h.events.includes(type));
  }

  /** Bytes of bodies pending now (see {@link WebhookDispatcherOptions.maxPendingBytes}). */
  get pendingByteCount(): number {
    return this.pendingBytes;
  }

  /** Queues `event` for every hook subscribed to its type, within the queue's bounds. */
  emit(event: AuditEvent): void {
    const base = { id: randomUUID(), time: (this.opts.now?.() ?? new Date()).toISOString() };
    const user = typeof event.data.user === 'string' ? event.data.user : undefined;
    for (const hook of this.opts.hooks) {
      if (!hook.events.includes('*') && !hook.events.includes(event.type)) continue;
      if (this.pending.size >= this.maxPending || this.userFull(user)) {
        this.drop(hook);
        continue;
      }
      const payload: WebhookPayload = {
        ...base,
        type: event.type,
        action: event.action,
        data: sanitize(event.data, hook.includeArguments),
      };
      const body = JSON.stringify(payload);
      const held: Held = { bytes: Buffer.byteLength(body), user };
      if (this.pendingBytes + held.bytes > this.maxPendingBytes) {
        this.drop(hook);
        continue;
      }
      this.hold(held, 1);
      const p = this.deliver(hook, payload, body).finally(() => {
        this.pending.delete(p);
        this.hold(held, -1);
      });
      this.pending.add(p);
    }
  }

  private userFull(user: string | undefined): boolean {
    return user !== undefined && (this.perUser.get(user) ?? 0) >= this.maxPendingPerUser;
  }

  /** Counts a delivery's bytes and user in (`1`) or out (`-1`). */
  private hold(held: Held, sign: 1 | -1): void {
    this.pendingBytes += sign * held.bytes;
    if (held.user === undefined) return;
    const n = (this.perUser.get(held.user) ?? 0) + sign;
    if (n > 0) this.perUser.set(held.user, n);
    else this.perUser.delete(held.user);
  }

  /** Resolves when every queued delivery has finished (succeeded or given up). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private drop(hook: WebhookConfig): void {
    this.opts.onDelivery?.('dropped');
    // One warning per burst, not one per dropped event.
    if (this.droppedSinceLog++ === 0) {
      this.opts.logger?.warn('webhook queue full; dropping events until deliveries drain', {
        webhook: new URL(hook.url).host,
        maxPending: this.maxPending,
        maxPendingBytes: this.maxPendingBytes,
        maxPendingPerUser: this.maxPendingPerUser,
      });
    }
  }

  private headers(hook: WebhookConfig, payload: WebhookPayload, body: string): Record<string, string> {
    const timestamp = Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
    return {
      'content-type': 'application/json',
      'user-agent': 'mcp-gateway-webhooks/1',
      'webhook-id': payload.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(hook.secret, payload.id, timestamp, body),
      'x-mcp-event': payload.type,
      'x-mcp-delivery': payload.id,
      'x-mcp-signature': signPayload(hook.secret, body),
    };
  }

  private async deliver(hook: WebhookConfig, payload: WebhookPayload, body: string): Promise<void> {
    try {
      await this.attempts(hook, payload, body);
    } finally {
      if (this.pending.size <= 1) this.droppedSinceLog = 0;
    }
  }

  private async attempts(hook: WebhookConfig, payload: WebhookPayload, body: string): Promise<void> {
    for (let attempt = 1; attempt <= hook.maxAttempts; attempt++) {
      const headers = this.headers(hook, payload, body);
      let retryable = true;
      let reason = '';
      try {
        const res = await this.fetchImpl(hook.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(hook.timeout * 1000),
        });
        await res.body?.cancel();
        if (res.status >= 200 && res.status < 300) {
          this.opts.onDelivery?.('delivered');
          return;
        }
        retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        reason = `status ${res.status}`;
      } catch (err) {
        reason = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network error';
      }
      const host = new URL(hook.url).host;
      if (!retryable || attempt === hook.maxAttempts) {
        this.opts.onDelivery?.('failed');
        this.opts.logger?.warn('webhook delivery failed', {
          webhook: host,
          delivery: payload.id,
          attempt,
          reason,
        });
        return;
      }
      this.opts.onDelivery?.('retry');
      await this.sleep(this.backoff(attempt));
    }
  }
}
