/** Small pure helpers of `OAuthSession`. */
import type { StoredClient } from '../store/types.js';

export function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const scopeSet = (s: string | undefined) => new Set((s ?? '').split(/\s+/).filter(Boolean));

export function portOf(uri: string | undefined): number | undefined {
  if (!uri) return undefined;
  try {
    const u = new URL(uri);
    return u.port ? Number(u.port) : undefined;
  } catch {
    return undefined;
  }
}

export const stringField = (o: object, key: string): string | undefined => {
  const v = (o as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
};

/** The stored client after an RFC 7592 update: the server's answer, keeping what it may omit. */
export function mergeUpdatedClient(client: StoredClient, updated: Record<string, unknown>): StoredClient {
  const next: StoredClient = {
    ...client,
    ...(updated as Partial<StoredClient>),
    client_id: client.client_id,
    source: client.source,
    redirect_uris: Array.isArray(updated.redirect_uris)
      ? (updated.redirect_uris as string[])
      : client.redirect_uris,
  };
  // RFC 7592 §3: the server may rotate the registration access token, or keep it.
  if (typeof updated.registration_access_token !== 'string' && client.registration_access_token) {
    next.registration_access_token = client.registration_access_token;
  }
  if (typeof updated.registration_client_uri !== 'string' && client.registration_client_uri) {
    next.registration_client_uri = client.registration_client_uri;
  }
  return next;
}
