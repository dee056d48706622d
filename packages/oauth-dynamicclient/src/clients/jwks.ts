import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { Clock } from '../clock.js';
import type { Logger } from '../http/errors.js';
import { publicJwksSchema, type PublicJwks } from './metadata.js';
import { safeFetch, SafeFetchError, systemResolver, type DnsResolver } from './safe-fetch.js';

/** Where a key set comes from: inline keys or a URL. */
export type KeySource = { jwks: PublicJwks } | { jwksUri: string };

export interface RemoteJwksSettings {
  allowLoopback: boolean;
  allowPrivate: boolean;
  timeoutMs: number;
  maxBytes: number;
  cacheMs: number;
  refetchCooldownMs: number;
  maxEntries: number;
  resolver?: DnsResolver;
}

interface Entry {
  jwks: PublicJwks;
  fetchedAt: number;
}

/** Thrown when a key set cannot be fetched or used; the message is safe to show. */
export class KeySetError extends Error {
  override readonly name = 'KeySetError';
}

/**
 * Key sets published at `jwks_uri` (clients) or `jwksUri` (trusted IdPs):
 * fetched through {@link safeFetch} (SSRF classifier, size cap, timeout, no
 * redirects), cached for `cacheMs`, at most `maxEntries` sets in memory
 * (oldest dropped first), and re-fetched for an unknown `kid` at most once
 * per `refetchCooldownMs`. Concurrent fetches of one URL share one request.
 */
export class RemoteJwks {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();

  constructor(
    private readonly settings: RemoteJwksSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** How many key sets are cached (for tests of the bound). */
  get size(): number {
    return this.cache.size;
  }

  /** The key set at `url`, from the cache while fresh. `refresh` re-fetches unless fetched within the cooldown. */
  async get(url: string, opts: { refresh?: boolean } = {}): Promise<PublicJwks> {
    const now = this.clock.now();
    const hit = this.cache.get(url);
    const fresh = hit && now - hit.fetchedAt < this.settings.cacheMs;
    const cooling = hit && now - hit.fetchedAt < this.settings.refetchCooldownMs;
    if (hit && (opts.refresh ? cooling : fresh)) return hit.jwks;
    let p = this.pending.get(url);
    if (!p) {
      p = this.fetch(url).finally(() => this.pending.delete(url));
      this.pending.set(url, p);
    }
    return (await p).jwks;
  }

  private async fetch(url: string): Promise<Entry> {
    let doc;
    try {
      doc = await safeFetch(new URL(url), {
        ...this.settings,
        resolver: this.settings.resolver ?? systemResolver,
      });
    } catch (err) {
      const e = err instanceof SafeFetchError ? err : new SafeFetchError('fetch failed');
      this.log.warn('key set fetch refused or failed', { url, reason: e.message, ...e.detail });
      throw new KeySetError(`key set: ${e.message}`);
    }
    if (doc.status !== 200) throw new KeySetError(`key set: HTTP ${doc.status}`);
    let parsed;
    try {
      parsed = publicJwksSchema.safeParse(JSON.parse(new TextDecoder().decode(doc.body)));
    } catch {
      throw new KeySetError('key set: not JSON');
    }
    if (!parsed.success) throw new KeySetError('key set: not a JWK Set of public keys');
    const entry = { jwks: parsed.data, fetchedAt: this.clock.now() };
    this.cache.delete(url);
    this.cache.set(url, entry);
    while (this.cache.size > this.settings.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  /**
   * Verifies a JWS with the keys of `source`. For a URL source, a signature
   * whose `kid` is not in the cached set triggers one re-fetch (key rotation).
   */
  async verify(jwt: string, source: KeySource, options: JWTVerifyOptions): Promise<JWTPayload> {
    const attempt = async (jwks: PublicJwks) =>
      (await jwtVerify(jwt, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), options))
        .payload;
    if ('jwks' in source) return attempt(source.jwks);
    try {
      return await attempt(await this.get(source.jwksUri));
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      return attempt(await this.get(source.jwksUri, { refresh: true }));
    }
  }
}
