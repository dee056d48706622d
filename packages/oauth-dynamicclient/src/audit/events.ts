import type { Logger } from '../http/errors.js';

/**
 * Audit events by type. Other modules add their own events by declaration
 * merging, without touching this file:
 *
 * ```ts
 * declare module '../audit/events.js' {
 *   interface AuditEventMap { 'token.issued': { clientId: string; sub: string } }
 * }
 * ```
 *
 * Events never carry secrets, tokens or codes: only identifiers.
 */
export interface AuditEventMap {
  /** A client registered through RFC 7591 or the API. */
  'client.registered': { clientId: string; clientName?: string; redirectHosts: string[]; source?: string };
  /** A client's metadata was replaced (RFC 7592 PUT or the API); its registration access token rotated. */
  'client.updated': { clientId: string; source?: string };
  /** A client was deleted (RFC 7592 DELETE, API) or expired unused and was reaped. */
  'client.deleted': { clientId: string; reason: ClientDeletionReason; source?: string };
  /** A registration or update was refused. */
  'client.registration_rejected': { error: string; description?: string; source?: string };
  /** A Client ID Metadata Document could not be used. */
  'client.metadata_document_rejected': { clientId: string; reason: string };
  /** A request was refused by a rate limit. */
  rate_limited: { bucket: string; source?: string };
}

/** Why a client went away. */
export type ClientDeletionReason = 'rfc7592' | 'api' | 'expired';

/** One audit event: `type` plus that type's fields. */
export type AuditEvent = {
  [K in keyof AuditEventMap]: { type: K } & AuditEventMap[K];
}[keyof AuditEventMap];

/** What listeners receive: the event plus when and which issuer. */
export type AuditRecord = AuditEvent & { time: string; issuer: string };

/** Receives audit records. Errors thrown here are logged and otherwise ignored. */
export type AuditListener = (record: AuditRecord) => void | Promise<void>;

/** Emits typed audit events to the configured listener and as structured log lines. */
export class AuditEmitter {
  constructor(
    private readonly issuer: string,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly listener?: AuditListener,
  ) {}

  /** Emits `event`; never throws and never waits on the listener. */
  emit<K extends keyof AuditEventMap>(type: K, fields: AuditEventMap[K]): void {
    const record = {
      type,
      ...fields,
      time: new Date(this.now()).toISOString(),
      issuer: this.issuer,
    } as AuditRecord;
    this.log.info('audit', record);
    if (!this.listener) return;
    try {
      void Promise.resolve(this.listener(record)).catch((err: unknown) =>
        this.log.warn('audit listener failed', {
          errorMessage: err instanceof Error ? err.message : String(err),
        }),
      );
    } catch (err) {
      this.log.warn('audit listener failed', {
        errorMessage: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
