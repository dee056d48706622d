import { CappedIndex } from '@mcp-gateway/internal/capped-index';
import type { Clock } from '../clock.js';
import type { AuditEmitter } from '../audit/events.js';
import { invalidClient, OAuthError, type Logger } from '../http/errors.js';
import type { Store } from '../store/types.js';
import { normalizeClientMetadata, type ClientMetadata, type MetadataPolicy } from './metadata.js';
import {
  safeFetch,
  SafeFetchError,
  systemResolver,
  type DnsResolver,
  type FetchedDocument,
} from './safe-fetch.js';

/** Client ID Metadata Document settings (draft-ietf-oauth-client-id-metadata-document). */
export interface CimdSettings {
  /** Accept URL client_ids at all (default true). */
  enabled: boolean;
  /** Allow documents on loopback addresses, and `http://` for loopback hosts (tests and local development only). */
  allowLoopback: boolean;
  /** Allow documents on private (RFC 1918 / unique-local) addresses. */
  allowPrivate: boolean;
  /** Give up on a fetch after this long (default 5 s). */
  timeoutMs: number;
  /** Refuse documents larger than this (default 5 KB). */
  maxBytes: number;
  /** Cache ceiling: documents are never cached longer, whatever their headers say (default 24 h). */
  cacheMaxMs: number;
  /** Cache lifetime when the response has no caching headers (default 5 min). */
  cacheDefaultMs: number;
  /**
   * Most documents cached at once (default 1000): beyond it a document is
   * still fetched and used, but not cached, until cached ones expire.
   */
  cacheMaxEntries?: number;
  /** DNS resolver (default: the system's). Tests inject one. */
  resolver?: DnsResolver;
}

/** Default of {@link CimdSettings.cacheMaxEntries}. */
export const DEFAULT_CACHE_MAX_ENTRIES = 1_000;

/** The store set listing cached documents (for the cap). */
const CACHE_INDEX = 'cimd:index';
const cacheKeyOf = (clientId: string) => `cimd:${clientId}`;

/** Fetches a document; the default is {@link safeFetch}. */
export type DocumentFetcher = typeof safeFetch;

interface CachedDocument {
  metadata: ClientMetadata;
}

/**
 * Decides whether a client_id is a Client ID Metadata Document URL:
 * an `https` URL with a path (or, when loopback is allowed, `http` on a
 * loopback host).
 */
export function looksLikeCimdClientId(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/** Checks the URL rules of a CIMD client_id; returns the parsed URL or a reason. */
export function parseCimdClientId(clientId: string, allowLoopback: boolean): URL | string {
  if (clientId.length > 2000) return 'client_id URL is too long';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'client_id is not a valid URL';
  }
  const loopbackHost = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(allowLoopback && url.protocol === 'http:' && loopbackHost)) {
    return 'client_id URL must use https';
  }
  if (url.username || url.password) return 'client_id URL must not contain userinfo';
  if (clientId.includes('#')) return 'client_id URL must not contain a fragment';
  if (url.pathname === '/' || url.pathname === '') return 'client_id URL must have a path';
  if (/\/\.\.?(\/|$)/.test(clientId.replace(/[?#].*$/, '')))
    return 'client_id URL must not contain dot segments';
  if (url.href !== clientId) return 'client_id URL must be in normalized form';
  return url;
}

/** Cache lifetime from `Cache-Control` / `Expires`, clamped to the ceiling. */
export function cacheLifetimeMs(
  headers: Headers,
  now: number,
  settings: Pick<CimdSettings, 'cacheMaxMs' | 'cacheDefaultMs'>,
): number {
  const cc = (headers.get('cache-control') ?? '').toLowerCase();
  let ms: number | undefined;
  if (/(^|,)\s*(no-store|no-cache)\b/.test(cc)) ms = 0;
  else {
    const m = /(^|,)\s*max-age\s*=\s*"?(\d+)"?/.exec(cc);
    if (m) ms = Number(m[2]) * 1000;
    else {
      const expires = headers.get('expires');
      if (expires) {
        const at = Date.parse(expires);
        const date = Date.parse(headers.get('date') ?? '');
        ms = Number.isNaN(at) ? 0 : at - (Number.isNaN(date) ? now : date);
      }
    }
  }
  return Math.min(Math.max(ms ?? settings.cacheDefaultMs, 0), settings.cacheMaxMs);
}

/**
 * Resolves URL client_ids to client metadata by fetching the document
 * (SSRF-safe, size- and time-capped), validating it (its `client_id` must equal
 * the URL, `client_name` and `redirect_uris` are required, no secrets) and
 * caching it in the store, honouring HTTP caching up to a ceiling.
 */
export class CimdResolver {
  constructor(
    private readonly settings: CimdSettings,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policy: MetadataPolicy,
    private readonly audit: AuditEmitter,
    private readonly log: Logger,
    private readonly fetcher: DocumentFetcher = safeFetch,
  ) {
    this.cached = new CappedIndex(store, {
      key: CACHE_INDEX,
      max: settings.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
      clock,
      prune: () => this.pruneCache(),
    });
  }

  /** The ids of cached documents, capped at `cacheMaxEntries`. */
  private readonly cached: CappedIndex;

  /** Drops index members whose cached document expired. */
  private async pruneCache(): Promise<void> {
    for (const clientId of await this.store.members(CACHE_INDEX)) {
      if ((await this.store.get(cacheKeyOf(clientId))) === undefined)
        await this.store.removeFromSet(CACHE_INDEX, clientId);
    }
  }

  /**
   * The error an anonymous caller sees: `reason` only. `detail` (the address
   * a name resolved to, socket errors) goes to the server log at warn level.
   */
  private reject(clientId: string, reason: string, detail?: Record<string, string>): OAuthError {
    this.audit.emit('client.metadata_document_rejected', { clientId: clientId.slice(0, 300), reason });
    if (detail && Object.keys(detail).length)
      this.log.warn('client metadata document refused', {
        clientId: clientId.slice(0, 300),
        reason,
        ...detail,
      });
    return invalidClient(`client metadata document: ${reason}`);
  }

  /**
   * The metadata for a URL client_id.
   *
   * @throws OAuthError `invalid_client` saying why the document cannot be used.
   */
  async resolve(clientId: string): Promise<ClientMetadata> {
    if (!this.settings.enabled) throw invalidClient('client metadata documents are not accepted here');
    const url = parseCimdClientId(clientId, this.settings.allowLoopback);
    if (typeof url === 'string') throw this.reject(clientId, url);
    const cacheKey = cacheKeyOf(clientId);
    const cached = await this.store.get<CachedDocument>(cacheKey);
    if (cached) return cached.metadata;

    let doc: FetchedDocument;
    try {
      doc = await this.fetcher(url, {
        resolver: this.settings.resolver ?? systemResolver,
        timeoutMs: this.settings.timeoutMs,
        maxBytes: this.settings.maxBytes,
        allowLoopback: this.settings.allowLoopback,
        allowPrivate: this.settings.allowPrivate,
      });
    } catch (err) {
      if (err instanceof SafeFetchError) throw this.reject(clientId, err.message, err.detail);
      throw this.reject(clientId, 'fetch failed', {
        errorMessage: err instanceof Error ? err.message : String(err),
      });
    }
    if (doc.status !== 200) throw this.reject(clientId, `fetch answered HTTP ${doc.status}`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(doc.body));
    } catch {
      throw this.reject(clientId, 'document is not valid JSON');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw this.reject(clientId, 'document is not a JSON object');
    }
    const record = json as Record<string, unknown>;
    if (record.client_id !== clientId)
      throw this.reject(clientId, 'client_id in the document does not equal its URL');
    if (typeof record.client_name !== 'string' || record.client_name.length === 0) {
      throw this.reject(clientId, 'client_name is required');
    }
    for (const forbidden of ['client_secret', 'client_secret_expires_at']) {
      if (forbidden in record)
        throw this.reject(clientId, `${forbidden} must not appear in a metadata document`);
    }
    let metadata: ClientMetadata;
    try {
      metadata = normalizeClientMetadata(record, {
        ...this.policy,
        defaultAuthMethod: 'none',
        allowedAuthMethods: ['none'],
      });
    } catch (err) {
      if (err instanceof OAuthError) throw this.reject(clientId, `${err.error}: ${err.description ?? ''}`);
      throw err;
    }
    const ttl = cacheLifetimeMs(doc.headers, this.clock.now(), this.settings);
    if (ttl > 0) {
      await this.store.set(cacheKey, { metadata } satisfies CachedDocument, ttl);
      // At the cap the document is used this once and fetched again next time.
      if (!(await this.cached.admit(clientId))) await this.store.delete(cacheKey);
    }
    return metadata;
  }
}
