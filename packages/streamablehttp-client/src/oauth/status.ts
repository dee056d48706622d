/** What `OAuthSession.status` reports: read from the stored record alone, no network request. */
import type { StoredClient, StoredCredentials } from '../store/types.js';
import { isDPoPBound } from './dpop.js';
import { decodeJwtClaims } from './session-helpers.js';

/** What `status` reports. */
export interface AuthStatus {
  server: string;
  loggedIn: boolean;
  issuer?: string;
  resource?: string;
  clientId?: string;
  clientSource?: StoredClient['source'];
  scope?: string;
  /** ISO time the access token expires. */
  expiresAt?: string;
  expired?: boolean;
  hasRefreshToken: boolean;
  /** `DPoP` for a token bound to this client's key (RFC 9449), else `Bearer`. */
  tokenType?: 'Bearer' | 'DPoP';
  /** Claims of the access token when it is a JWT (not verified: display only). */
  claims?: Record<string, unknown>;
  /** Where the credentials are stored (file store only). */
  storedAt?: string;
}

/** The status of `server` from its stored record (`undefined`: nothing stored) at time `now`. */
export function authStatus(
  server: string,
  rec: StoredCredentials | undefined,
  storedAt: string | undefined,
  now: number,
): AuthStatus {
  const out: AuthStatus = { server, loggedIn: false, hasRefreshToken: false };
  if (storedAt !== undefined) out.storedAt = storedAt;
  if (!rec) return out;
  out.issuer = rec.issuer;
  if (rec.resource) out.resource = rec.resource;
  if (rec.client) {
    out.clientId = rec.client.client_id;
    out.clientSource = rec.client.source;
  }
  const t = rec.tokens;
  if (!t) return out;
  out.loggedIn = true;
  out.hasRefreshToken = Boolean(t.refresh_token);
  out.tokenType = isDPoPBound(t) ? 'DPoP' : 'Bearer';
  if (t.scope) out.scope = t.scope;
  if (t.expires_at !== undefined) {
    out.expiresAt = new Date(t.expires_at).toISOString();
    out.expired = t.expires_at <= now;
  }
  const claims = decodeJwtClaims(t.access_token) ?? (t.id_token ? decodeJwtClaims(t.id_token) : undefined);
  if (claims) out.claims = claims;
  return out;
}
