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

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as sent in `X-MCP-Signature`. */
export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookDispatcherOptions {
  hooks: WebhookConfig[];
  logger?: Logger;
  /** Backoff before retry n (1-based); default 1 s × 2^(n-1), at most 60 s. */
  backoffMs?: (attempt: number) => number;
  /** Waits; injectable so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
  onDelivery?: (outcome: 'delivered' | 'retry' | 'failed') => void;
  fetch?: typeof fetch;
  now?: () => Date;
}

/**
 * Delivers audit events to the configured URLs: JSON POSTs signed with
 * HMAC-SHA256 (`X-MCP-Signature`), retried with exponential backoff on network
 * errors, 408, 429 and 5xx. Delivery runs in the background and never blocks
 * or fails the request that caused the event.
 */
export class WebhookDispatcher {
  private readonly pending = new Set<Promise<void>>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backoff: (attempt: number) => number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: WebhookDispatcherOptions) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
    this.backoff = opts.backoffMs ?? ((n) => Math.min(60_000, 1000 * 2 ** (n - 1)));
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** True when some hook wants this event type. */
  wants(type: AuditEvent['type']): boolean {
    return this.opts.hooks.some((h) => h.events.includes('*') || h.events.includes(type));
  }

  /** Queues `event` for every hook subscribed to its type. */
  emit(event: AuditEvent): void {
    const base = { id: randomUUID(), time: (this.opts.now?.() ?? new Date()).toISOString() };
    for (const hook of this.opts.hooks) {
      if (!hook.events.includes('*') && !hook.events.includes(event.type)) continue;
      const payload: WebhookPayload = {
        ...base,
        type: event.type,
        action: event.action,
        data: sanitize(event.data, hook.includeArguments),
      };
      const p = this.deliver(hook, payload).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Resolves when every queued delivery has finished (succeeded or given up). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private async deliver(hook: WebhookConfig, payload: WebhookPayload): Promise<void> {
    const body = JSON.stringify(payload);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'mcp-gateway-webhooks/1',
      'x-mcp-event': payload.type,
      'x-mcp-delivery': payload.id,
      'x-mcp-signature': signPayload(hook.secret, body),
    };
    for (let attempt = 1; attempt <= hook.maxAttempts; attempt++) {
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
        this.opts.logger?.warn(
          { webhook: host, delivery: payload.id, attempt, reason },
          'webhook delivery failed',
        );
        return;
      }
      this.opts.onDelivery?.('retry');
      await this.sleep(this.backoff(attempt));
    }
  }
}
