import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { epochSeconds, systemClock, type Clock } from '../clock.js';
import { unavailableError } from '../http/errors.js';
import { canonicalResource } from '../resource/canonical.js';
import type { AccessTokenClaims } from './access-token.js';
import { InsufficientScopeError, InvalidTokenError } from './errors.js';
import { boundedGroups } from './groups.js';

/** What a resource asks of a token. */
export interface VerifyAccessTokenOptions {
  /** The resource being accessed (RFC 8707); compared with `aud` in canonical form. */
  resource: string;
  /** Scopes the request needs; every one must be granted. */
  scopes?: string[];
  /**
   * The SHA-256 JWK thumbprint of the key a verified DPoP proof of this
   * request showed (RFC 9449 §7). A token bound to a key (`cnf.jkt`) passes
   * only with that key; a token given with a proof must be bound. Absent = the
   * token was presented as `Bearer`, so a bound token is refused.
   */
  dpopKey?: string;
}

/**
 * The sender-constraint check of RFC 9449 §7.1 between a token's `cnf.jkt`
 * and the key the request proved (`undefined` for a Bearer presentation).
 *
 * @throws InvalidTokenError `dpop_binding`.
 */
export function checkDpopBinding(claims: Pick<AccessTokenClaims, 'cnf'>, dpopKey: string | undefined): void {
  const jkt = claims.cnf?.jkt;
  if (jkt === dpopKey) return;
  if (dpopKey === undefined)
    throw new InvalidTokenError(
      'dpop_binding',
      'token is DPoP-bound: present it with the DPoP scheme and a proof',
    );
  throw new InvalidTokenError(
    'dpop_binding',
    jkt === undefined ? 'token is not DPoP-bound' : 'DPoP proof key does not match the token',
  );
}

/** A token that passed every check. */
export interface VerifiedAccessToken {
  claims: AccessTokenClaims;
  sub: string;
  clientId: string;
  scopes: string[];
  login: string | undefined;
  name: string | undefined;
  /** The `groups` claim (bounded; `undefined` when the token has none). */
  groups: string[] | undefined;
  /** `exp`, seconds since the epoch. */
  expiresAt: number;
}

/** Resolves the public key for a JWS header; `undefined` when the `kid` is unknown. */
export type VerificationKeyResolver = (header: JWTHeaderParameters) => Promise<CryptoKey | undefined>;

export interface AccessTokenVerifierOptions {
  /** Expected `iss`. */
  issuer: string;
  /** Public key lookup (local key ring or a remote JWKS). */
  key: VerificationKeyResolver;
  /** Revocation check by `jti` and family id; run on every verification, cached or not. */
  isRevoked?: (jti: string, familyId: string | undefined) => Promise<boolean>;
  clock?: Clock;
  /** Allowed clock skew for `exp`/`iat`/`nbf`, seconds (default 10). */
  clockSkewSeconds?: number;
  /** Accepted algorithms (default ES256 and RS256). `none` and HMAC are never accepted. */
  algorithms?: ('ES256' | 'RS256' | 'ES384' | 'PS256' | 'EdDSA')[];
  /** Verified tokens kept in memory by token string (default 10 000; 0 disables the cache). */
  cacheSize?: number;
}

interface CacheEntry {
  claims: AccessTokenClaims;
  scopes: Set<string>;
  audiences: string[];
  groups: string[] | undefined;
}

const ASYMMETRIC = new Set([
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
]);

/**
 * For `.catch` after {@link AccessTokenVerifier.inspect}: a token that does
 * not verify is `undefined`; a storage outage propagates (it says nothing
 * about the token).
 */
export function notATokenUnlessUnavailable(err: unknown): undefined {
  if (unavailableError(err)) throw err;
  return undefined;
}

function mapJoseError(err: unknown): InvalidTokenError {
  if (err instanceof InvalidTokenError) return err;
  if (err instanceof joseErrors.JWTExpired) return new InvalidTokenError('expired', 'token expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new InvalidTokenError('issuer', 'token issuer mismatch');
    if (err.claim === 'typ') return new InvalidTokenError('type', 'token type must be at+jwt');
    if (err.claim === 'nbf' || err.claim === 'iat')
      return new InvalidTokenError('not_yet_valid', 'token not yet valid');
    return new InvalidTokenError('claims', `token claim "${err.claim}" invalid`);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return new InvalidTokenError('algorithm', 'token algorithm not allowed');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError('signature', 'token signature invalid');
  }
  return new InvalidTokenError('malformed', 'token malformed');
}

/**
 * Verifies RFC 9068 access tokens: signature by a known key with an allowed
 * asymmetric algorithm, `typ: at+jwt`, `iss`, `exp` with a small skew, the
 * audience against the requested resource (canonical form), the required
 * scopes and revocation. The expensive part (signature and claim parsing) is
 * cached by token string until the token expires; audience, scope, expiry and
 * revocation are checked on every call.
 */
export class AccessTokenVerifier {
  private readonly clock: Clock;
  private readonly skew: number;
  private readonly algorithms: string[];
  private readonly cacheSize: number;
  private readonly cache = new Map<string, CacheEntry>();
  /** Canonical forms of requested resources (callers use a handful of distinct values). */
  private readonly canonical = new Map<string, string>();

  constructor(private readonly opts: AccessTokenVerifierOptions) {
    this.clock = opts.clock ?? systemClock;
    this.skew = opts.clockSkewSeconds ?? 10;
    this.algorithms = (opts.algorithms ?? ['ES256', 'RS256']).filter((a) => ASYMMETRIC.has(a));
    this.cacheSize = opts.cacheSize ?? 10_000;
  }

  /** Verifies `token` for `options.resource`; throws {@link InvalidTokenError} or {@link InsufficientScopeError}. */
  async verify(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> {
    const entry = this.cache.get(token) ?? (await this.verifySignature(token));
    const { claims } = entry;
    const now = epochSeconds(this.clock.now());
    if (claims.exp + this.skew <= now) {
      this.cache.delete(token);
      throw new InvalidTokenError('expired', 'token expired');
    }
    let resource = this.canonical.get(options.resource);
    if (resource === undefined) {
      resource = canonicalResource(options.resource) ?? options.resource;
      if (this.canonical.size < 1000) this.canonical.set(options.resource, resource);
    }
    if (!entry.audiences.includes(resource))
      throw new InvalidTokenError('audience', 'token not valid for this resource');
    checkDpopBinding(claims, options.dpopKey);
    if (this.opts.isRevoked && (await this.opts.isRevoked(claims.jti, claims.fid))) {
      this.cache.delete(token);
      throw new InvalidTokenError('revoked', 'token revoked');
    }
    const missing = (options.scopes ?? []).filter((s) => !entry.scopes.has(s));
    if (missing.length) throw new InsufficientScopeError(options.scopes ?? [], [...entry.scopes]);
    return {
      claims,
      sub: claims.sub,
      clientId: claims.client_id,
      scopes: [...entry.scopes],
      login: claims.login,
      name: claims.name,
      groups: entry.groups,
      expiresAt: claims.exp,
    };
  }

  /**
   * Checks signature, `typ`, `iss` and `exp` only (no audience, scope or
   * revocation): for revocation and introspection, which must recognise a
   * token of any audience.
   */
  async inspect(token: string): Promise<AccessTokenClaims> {
    const entry = this.cache.get(token) ?? (await this.verifySignature(token));
    if (entry.claims.exp + this.skew <= epochSeconds(this.clock.now())) {
      throw new InvalidTokenError('expired', 'token expired');
    }
    return entry.claims;
  }

  /** Drops every cached verification (e.g. after the key ring changed). */
  clearCache(): void {
    this.cache.clear();
  }

  private async verifySignature(token: string): Promise<CacheEntry> {
    if (token.length > 8192) throw new InvalidTokenError('malformed', 'token malformed');
    let header: JWTHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWTHeaderParameters;
    } catch {
      throw new InvalidTokenError('malformed', 'token malformed');
    }
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg)) {
      throw new InvalidTokenError('algorithm', 'token algorithm not allowed');
    }
    let claims: AccessTokenClaims;
    try {
      const result = await jwtVerify<AccessTokenClaims>(
        token,
        async (h) => {
          const key = await this.opts.key(h);
          if (!key) throw new InvalidTokenError('unknown_key', 'token signed by an unknown key');
          return key;
        },
        {
          issuer: this.opts.issuer,
          algorithms: this.algorithms,
          typ: 'at+jwt',
          clockTolerance: this.skew,
          currentDate: new Date(this.clock.now()),
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
        },
      );
      claims = result.payload;
    } catch (err) {
      if (unavailableError(err)) throw err; // the key ring could not be read: not the token's fault
      throw mapJoseError(err);
    }
    if (
      typeof claims.sub !== 'string' ||
      typeof claims.client_id !== 'string' ||
      typeof claims.jti !== 'string' ||
      (claims.scope !== undefined && typeof claims.scope !== 'string')
    ) {
      throw new InvalidTokenError('claims', 'token claims malformed');
    }
    const aud = claims.aud as unknown;
    const audiences = (Array.isArray(aud) ? aud : [aud]).filter((a): a is string => typeof a === 'string');
    const entry: CacheEntry = {
      claims,
      scopes: new Set((claims.scope ?? '').split(' ').filter(Boolean)),
      audiences: audiences.map((a) => canonicalResource(a) ?? a),
      groups: boundedGroups(claims.groups),
    };
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, entry);
    }
    return entry;
  }
}
