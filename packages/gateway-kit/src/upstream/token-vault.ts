import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import type { SecretBox } from './secret-box.js';

/** A user's tokens at one upstream authorization server, as the gateway keeps them (bound to it by `issuer`). */
export interface UpstreamTokens {
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires (ms since the epoch), when the upstream said. */
  expiresAt?: number;
  /** The scope the authorization server granted, when it said (RFC 6749 §5.1). */
  scope?: string;
  /**
   * The scope the sign-in that got them asked for (`undefined`: none, or a record of an earlier
   * version). A challenge for scopes within it is not followed by another sign-in (no step-up loop).
   */
  requested?: string;
  /**
   * The authorization server that issued them (its `issuer`): they are refreshed and revoked
   * there only. Records of earlier versions have none and are never sent to any.
   */
  issuer?: string;
  /** When the user connected (ms since the epoch). */
  connectedAt: number;
}

/** Records are kept this long after their last write (a refresh rewrites them). */
const RECORD_TTL_MS = 90 * 24 * 3600_000;

/**
 * Upstream tokens, encrypted at rest in the gateway's store: one record per
 * (service, user), sealed by a {@link SecretBox} and bound to both, so the
 * store never holds a token in the clear and a record moved under another
 * user's key does not open. At most one record per user and `oauth` service.
 */
export class UpstreamTokenVault {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
  ) {}

  private static keyOf(service: string, sub: string): string {
    return `gateway:upstream-tokens:${service} ${sub}`;
  }

  /** The user's tokens for `service`, or `undefined` (none, or a record that does not open). */
  async get(service: string, sub: string): Promise<UpstreamTokens | undefined> {
    const key = UpstreamTokenVault.keyOf(service, sub);
    return this.box.open<UpstreamTokens>(await this.store.get(key), key);
  }

  /** Stores (or replaces) the user's tokens for `service`. */
  async put(service: string, sub: string, tokens: UpstreamTokens): Promise<void> {
    const key = UpstreamTokenVault.keyOf(service, sub);
    await this.store.set(key, await this.box.seal(tokens, key), RECORD_TTL_MS);
  }

  /** Forgets the user's tokens for `service`; true when there were some. */
  delete(service: string, sub: string): Promise<boolean> {
    return this.store.delete(UpstreamTokenVault.keyOf(service, sub));
  }
}
