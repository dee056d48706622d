import { CappedIndex } from '@mcp-gateway/internal/capped-index';
import type { AuditEmitter, ClientDeletionReason } from '../audit/events.js';
import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import type { IdGenerator } from '../ids.js';
import { OAuthError, invalidRedirectUri, unauthorizedClient, type Logger } from '../http/errors.js';
import { hashSecret, verifySecret } from '../secrets.js';
import type { Store } from '../store/types.js';
import type { CimdResolver } from './cimd.js';
import { looksLikeCimdClientId } from './cimd.js';
import {
  normalizeClientMetadata,
  usesClientSecret,
  type ClientMetadata,
  type GrantType,
  type MetadataPolicy,
  type PublicJwks,
  type TokenEndpointAuthMethod,
} from './metadata.js';
import { hasGrant, isConfidential, type Client, type Registration, type StoredClient } from './records.js';

/** Runs after a client is deleted or reaped: revoke its grants and tokens here. */
export type ClientDeletedHook = (clientId: string, reason: ClientDeletionReason) => void | Promise<void>;

/** Extra say over which grants a client may use (on top of its registered `grant_types`). */
export type GrantPolicy = (client: Client, grant: GrantType) => boolean;

/** A pre-registered client from the options. */
export interface StaticClientConfig {
  client_id: string;
  /** Plaintext secret for confidential clients; hashed at start-up. */
  client_secret?: string;
  /**
   * The secret as its SHA-256 digest (base64url, no padding) instead of
   * `client_secret`, so the configuration never holds the plaintext.
   */
  client_secret_hash?: string;
  /** Required with the `authorization_code` grant; machine clients have none. */
  redirect_uris?: string[];
  client_name?: string;
  grant_types?: GrantType[];
  token_endpoint_auth_method?: TokenEndpointAuthMethod;
  /** Public keys of a `private_key_jwt` client. */
  jwks?: PublicJwks;
  /** URL of a `private_key_jwt` client's public keys. */
  jwks_uri?: string;
  scope?: string;
  application_type?: 'web' | 'native';
  /**
   * First-party client run by the operator (e.g. a gateway's own account
   * page): a signed-in user is sent straight back with a code, without the
   * consent page; the consent is still recorded as a grant. Only static
   * clients can have it: dynamic registration and CIMD documents never set it.
   */
  skipConsent?: boolean;
}

export interface ClientRegistrySettings {
  /** Lifetime renewed each time a client is used; `null` = forever. */
  clientTtlMs: number | null;
  /** Lifetime of a client that was never used; `null` = same as `clientTtlMs`. */
  unusedClientTtlMs: number | null;
  /** Exact redirect URIs or patterns clients may register; absent = any URI that passes the rules. */
  redirectUriAllowList?: Array<string | RegExp>;
  /** Scopes clients may register: a list, or a function for scopes that change at runtime. */
  scopesSupported: readonly string[] | (() => readonly string[]);
  /** Grant types the server serves; clients may register only these. */
  grantTypes?: GrantType[];
  staticClients: StaticClientConfig[];
  grantPolicy?: GrantPolicy;
  /**
   * Most live dynamic clients (registered, not expired or deleted); a
   * registration beyond it is refused with 503 `temporarily_unavailable`
   * and stores nothing. Default {@link DEFAULT_MAX_CLIENTS}.
   */
  maxClients?: number;
}

/** Default of {@link ClientRegistrySettings.maxClients}. */
export const DEFAULT_MAX_CLIENTS = 10_000;

/** `Retry-After` of a registration refused at the cap: a client never used is reaped within a day. */
const FULL_RETRY_AFTER_SECONDS = 3600;

const key = (clientId: string) => `client:${clientId}`;
const indexKey = 'clients:index';

/**
 * Every client the server knows (dynamic, static, CIMD): registration,
 * lookup, RFC 7592 credentials, secrets, expiry and deletion hooks.
 */
export class ClientRegistry {
  private readonly statics = new Map<string, Promise<Client>>();
  private readonly deletedHooks: ClientDeletedHook[] = [];
  readonly policy: MetadataPolicy;

  constructor(
    private readonly settings: ClientRegistrySettings,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly audit: AuditEmitter,
    private readonly log: Logger,
    private readonly cimd: (policy: MetadataPolicy) => CimdResolver,
  ) {
    const scopes = settings.scopesSupported;
    this.policy = {
      get scopesSupported() {
        return typeof scopes === 'function' ? scopes() : scopes;
      },
      ...(settings.grantTypes ? { grantTypes: settings.grantTypes } : {}),
      checkRedirectAllowed: settings.redirectUriAllowList
        ? (uri) => {
            const ok = settings.redirectUriAllowList!.some((p) =>
              typeof p === 'string' ? p === uri : p.test(uri),
            );
            if (!ok)
              throw invalidRedirectUri(
                `redirect URI ${JSON.stringify(uri.slice(0, 100))} is not on this server's allow-list`,
              );
          }
        : undefined,
    };
    this.cimdResolver = cimd(this.policy);
    this.index = new CappedIndex(store, {
      key: indexKey,
      max: settings.maxClients ?? DEFAULT_MAX_CLIENTS,
      clock,
      // Expired clients leave the index (their deletion hooks run) before a refusal.
      prune: () => this.reap(),
    });
    this.loadStatics();
  }

  /**
   * Normalizes the static clients against the scopes supported now: at
   * construction and again when the server's resources change (a static
   * client keeps only scopes the server supports).
   */
  scopesChanged(): void {
    this.loadStatics();
  }

  private loadStatics(): void {
    const settings = this.settings;
    for (const c of settings.staticClients) {
      const { client_id, client_secret, client_secret_hash, skipConsent, ...meta } = c;
      const hasSecret = client_secret !== undefined || client_secret_hash !== undefined;
      const metadata = normalizeClientMetadata(
        {
          ...meta,
          token_endpoint_auth_method:
            meta.token_endpoint_auth_method ?? (hasSecret ? 'client_secret_basic' : 'none'),
        },
        {
          scopesSupported: this.policy.scopesSupported,
          ...(settings.grantTypes ? { grantTypes: settings.grantTypes } : {}),
        },
      );
      if (usesClientSecret(metadata.token_endpoint_auth_method) !== hasSecret) {
        throw new TypeError(
          `static client ${client_id}: client_secret (or client_secret_hash) is required exactly when token_endpoint_auth_method is client_secret_basic or client_secret_post`,
        );
      }
      if (client_secret !== undefined && client_secret_hash !== undefined) {
        throw new TypeError(`static client ${client_id}: give client_secret or client_secret_hash, not both`);
      }
      if (client_secret_hash !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(client_secret_hash)) {
        throw new TypeError(
          `static client ${client_id}: client_secret_hash must be a base64url SHA-256 digest (43 characters)`,
        );
      }
      const p = (async (): Promise<Client> => ({
        client_id,
        kind: 'static',
        metadata,
        client_secret_expires_at: 0,
        ...(skipConsent === true ? { skipConsent: true as const } : {}),
        ...(client_secret ? { secretHash: await hashSecret(client_secret) } : {}),
        ...(client_secret_hash ? { secretHash: client_secret_hash } : {}),
      }))();
      this.statics.set(client_id, p);
    }
  }

  private readonly cimdResolver: CimdResolver;
  /** The index of dynamic clients, capped at `maxClients` live ones. */
  private readonly index: CappedIndex;

  /** Registers a hook that runs after a client is deleted or reaped. */
  onDeleted(hook: ClientDeletedHook): void {
    this.deletedHooks.push(hook);
  }

  private ttlFor(used: boolean): number | undefined {
    const ttl = used
      ? this.settings.clientTtlMs
      : (this.settings.unusedClientTtlMs ?? this.settings.clientTtlMs);
    return ttl ?? undefined;
  }

  private async save(record: StoredClient): Promise<void> {
    const ttl = record.expiresAt === undefined ? undefined : Math.max(1, record.expiresAt - this.clock.now());
    await this.store.set(key(record.client_id), record, ttl);
  }

  private async issue(
    clientId: string,
    metadata: ClientMetadata,
    previous?: StoredClient,
  ): Promise<{ record: StoredClient; registration: Registration }> {
    const registrationAccessToken = this.ids.token(32);
    let clientSecret: string | undefined;
    let secretHash = previous?.secretHash;
    if (!usesClientSecret(metadata.token_endpoint_auth_method)) secretHash = undefined;
    else if (!secretHash) {
      clientSecret = this.ids.token(32);
      secretHash = await hashSecret(clientSecret);
    }
    const now = this.clock.now();
    const ttl = this.ttlFor(previous?.lastUsedAt !== undefined);
    const record: StoredClient = {
      client_id: clientId,
      kind: 'dynamic',
      metadata,
      client_id_issued_at: previous?.client_id_issued_at ?? epochSeconds(now),
      client_secret_expires_at: 0,
      registrationTokenHash: await hashSecret(registrationAccessToken),
      ...(secretHash ? { secretHash } : {}),
      ...(ttl !== undefined ? { expiresAt: now + ttl } : {}),
      ...(previous?.lastUsedAt !== undefined ? { lastUsedAt: previous.lastUsedAt } : {}),
    };
    return {
      record,
      registration: {
        client: publicView(record),
        registrationAccessToken,
        ...(clientSecret ? { clientSecret } : {}),
      },
    };
  }

  /**
   * Registers a client (RFC 7591). `input` is raw client metadata.
   *
   * @throws OAuthError `invalid_client_metadata` / `invalid_redirect_uri`,
   *   or 503 `temporarily_unavailable` when `maxClients` live clients exist.
   */
  async register(input: unknown, opts: { source?: string } = {}): Promise<Registration> {
    const metadata = this.validate(input, opts.source);
    const clientId = this.ids.token(16);
    const { record, registration } = await this.issue(clientId, metadata);
    await this.save(record);
    if (!(await this.index.admit(clientId))) {
      await this.store.delete(key(clientId));
      const description = 'this server holds as many registered clients as it allows; try again later';
      this.audit.emit('client.registration_rejected', {
        error: 'temporarily_unavailable',
        description,
        ...(opts.source ? { source: opts.source } : {}),
      });
      this.log.warn('client registration refused: registration.maxClients reached', {
        maxClients: String(this.settings.maxClients ?? DEFAULT_MAX_CLIENTS),
      });
      throw new OAuthError('temporarily_unavailable', description, {
        headers: { 'retry-after': String(FULL_RETRY_AFTER_SECONDS) },
      });
    }
    this.audit.emit('client.registered', {
      clientId,
      ...(metadata.client_name ? { clientName: metadata.client_name } : {}),
      redirectHosts: [...new Set(metadata.redirect_uris.map(hostOf))],
      ...(opts.source ? { source: opts.source } : {}),
    });
    return registration;
  }

  private validate(input: unknown, source?: string): ClientMetadata {
    try {
      return normalizeClientMetadata(input, this.policy);
    } catch (err) {
      if (err instanceof OAuthError) {
        this.audit.emit('client.registration_rejected', {
          error: err.error,
          ...(err.description ? { description: err.description } : {}),
          ...(source ? { source } : {}),
        });
      }
      throw err;
    }
  }

  /**
   * Any client by id: dynamic and static from memory/store; URL ids through
   * the Client ID Metadata Document resolver.
   *
   * @returns `undefined` for unknown ids.
   * @throws OAuthError `invalid_client` when a URL client_id's document cannot be used.
   */
  async get(clientId: string): Promise<Client | undefined> {
    const s = this.statics.get(clientId);
    if (s) return s;
    if (looksLikeCimdClientId(clientId)) {
      const metadata = await this.cimdResolver.resolve(clientId);
      return { client_id: clientId, kind: 'cimd', metadata, client_secret_expires_at: 0 };
    }
    const record = await this.getStored(clientId);
    return record ? publicView(record) : undefined;
  }

  /** A dynamic client's stored record (with credential hashes), or `undefined`. */
  async getStored(clientId: string): Promise<StoredClient | undefined> {
    if (clientId.length === 0 || clientId.length > 200) return undefined;
    return this.store.get<StoredClient>(key(clientId));
  }

  /**
   * The stored client when `token` is its current registration access token.
   * Unknown clients and wrong tokens are indistinguishable (same result, same work).
   */
  async checkRegistrationToken(clientId: string, token: string): Promise<StoredClient | undefined> {
    const record = await this.getStored(clientId);
    const ok = await verifySecret(token, record?.registrationTokenHash);
    return ok ? record : undefined;
  }

  /**
   * Replaces a dynamic client's metadata (RFC 7592 §2.2) and rotates its
   * registration access token. The secret is kept (a public client that
   * becomes confidential gets a new one).
   */
  async update(clientId: string, input: unknown, opts: { source?: string } = {}): Promise<Registration> {
    const previous = await this.getStored(clientId);
    if (!previous) throw new OAuthError('invalid_client', 'unknown client', { status: 404 });
    const metadata = this.validate(input, opts.source);
    const { record, registration } = await this.issue(clientId, metadata, previous);
    await this.save(record);
    this.audit.emit('client.updated', { clientId, ...(opts.source ? { source: opts.source } : {}) });
    return registration;
  }

  /**
   * Deletes a dynamic client and runs the deletion hooks (which revoke its
   * grants and tokens). Static and CIMD clients cannot be deleted.
   *
   * @returns `true` when a client was deleted.
   */
  async delete(clientId: string, reason: ClientDeletionReason = 'api', source?: string): Promise<boolean> {
    const removed = await this.store.delete(key(clientId));
    await this.store.removeFromSet(indexKey, clientId);
    if (!removed) return false;
    await this.afterDelete(clientId, reason, source);
    return true;
  }

  private async afterDelete(clientId: string, reason: ClientDeletionReason, source?: string): Promise<void> {
    for (const hook of this.deletedHooks) {
      try {
        await hook(clientId, reason);
      } catch (err) {
        this.log.error('client deletion hook failed', {
          clientId,
          errorMessage: err instanceof Error ? err.message : String(err),
        });
      }
    }
    this.audit.emit('client.deleted', { clientId, reason, ...(source ? { source } : {}) });
  }

  /**
   * Authenticates a confidential client's secret in constant time. Public
   * clients and expired secrets fail.
   */
  async verifyClientSecret(client: Client, secret: string): Promise<boolean> {
    const ok = await verifySecret(secret, client.secretHash);
    if (!ok) return false;
    return (
      client.client_secret_expires_at === 0 ||
      client.client_secret_expires_at > epochSeconds(this.clock.now())
    );
  }

  /** Whether `client` may use `grant`: registered in its `grant_types` and allowed by the grant policy. */
  isGrantAllowed(client: Client, grant: GrantType): boolean {
    return hasGrant(client, grant) && (this.settings.grantPolicy?.(client, grant) ?? true);
  }

  /** @throws OAuthError `unauthorized_client` unless {@link isGrantAllowed}. */
  assertGrantAllowed(client: Client, grant: GrantType): void {
    if (!this.isGrantAllowed(client, grant)) {
      throw unauthorizedClient(`this client is not allowed to use the ${grant} grant`);
    }
  }

  /**
   * Marks a dynamic client as used (call on successful /authorize and /token):
   * it gets the full `clientTtlMs` again. Writes only on first use or when
   * less than half of the lifetime is left.
   */
  async touch(clientId: string): Promise<void> {
    const record = await this.getStored(clientId);
    if (!record) return;
    const now = this.clock.now();
    const ttl = this.ttlFor(true);
    const firstUse = record.lastUsedAt === undefined;
    const due = ttl !== undefined && (record.expiresAt === undefined || record.expiresAt - now < ttl / 2);
    if (!firstUse && !due) return;
    const next: StoredClient = { ...record, lastUsedAt: now };
    if (ttl !== undefined) next.expiresAt = now + ttl;
    else delete next.expiresAt;
    await this.save(next);
  }

  /** Ids of every dynamic client in the index (including expired ones not yet reaped). */
  async list(): Promise<string[]> {
    return this.store.members(indexKey);
  }

  /**
   * Drops index entries of clients whose records expired (never used within
   * `unusedClientTtlMs`, or idle past `clientTtlMs`) and runs the deletion
   * hooks for them. Call it periodically.
   *
   * @returns how many clients were reaped.
   */
  async reap(): Promise<number> {
    let reaped = 0;
    for (const clientId of await this.store.members(indexKey)) {
      if (await this.getStored(clientId)) continue;
      await this.store.removeFromSet(indexKey, clientId);
      await this.afterDelete(clientId, 'expired');
      reaped++;
    }
    return reaped;
  }
}

/** A stored client without its registration-token hash and bookkeeping. */
export function publicView(record: StoredClient): Client {
  const { registrationTokenHash: _r, expiresAt: _e, lastUsedAt: _l, ...client } = record;
  return client;
}

function hostOf(uri: string): string {
  try {
    const u = new URL(uri);
    return u.host || u.protocol;
  } catch {
    return 'invalid';
  }
}

export { isConfidential };
