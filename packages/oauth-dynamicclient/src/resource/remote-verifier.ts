import { createRemoteJWKSet, type JWTHeaderParameters } from 'jose';
import { systemClock, type Clock } from '../clock.js';
import type { Store } from '../store/types.js';
import { RevocationList } from '../tokens/revocation.js';
import {
  AccessTokenVerifier,
  type VerifiedAccessToken,
  type VerifyAccessTokenOptions,
} from '../tokens/verifier.js';

export interface RemoteVerifierOptions {
  /** The authorization server's issuer identifier. */
  issuer: string;
  /** Its JWKS URL (default `<issuer>/jwks`). */
  jwksUri?: string;
  /**
   * The authorization server's store (e.g. the same Redis), to honour
   * revocations; without it only signature, claims and expiry are checked.
   */
  store?: Store;
  clock?: Clock;
  clockSkewSeconds?: number;
  cacheSize?: number;
}

/**
 * A verifier for resource servers running apart from the authorization
 * server: keys from its JWKS (fetched and cached by jose), revocation from
 * the shared store when given.
 *
 * ```ts
 * const verify = createAccessTokenVerifier({ issuer: 'https://auth.example.com' });
 * const token = await verify(bearer, { resource: 'https://mcp.example.com/mcp', scopes: ['mcp'] });
 * ```
 */
export function createAccessTokenVerifier(
  options: RemoteVerifierOptions,
): (token: string, opts: VerifyAccessTokenOptions) => Promise<VerifiedAccessToken> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer.replace(/\/+$/, '')}/jwks`));
  const list = options.store ? new RevocationList(options.store, options.clock ?? systemClock) : undefined;
  const verifier = new AccessTokenVerifier({
    issuer: options.issuer,
    key: async (header: JWTHeaderParameters) => {
      try {
        return await jwks(header);
      } catch {
        return undefined;
      }
    },
    ...(list ? { isRevoked: (jti: string, fid: string | undefined) => list.isRevoked(jti, fid) } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.clockSkewSeconds !== undefined ? { clockSkewSeconds: options.clockSkewSeconds } : {}),
    ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}),
  });
  return (token, opts) => verifier.verify(token, opts);
}
