import { decodeJwt, type JWTPayload } from 'jose';
import { checkLifetime } from '../clients/authentication.js';
import type { PublicJwks } from '../clients/metadata.js';
import type { ServerContext } from '../context.js';
import { invalidGrant, OAuthError } from '../http/errors.js';
import { assertionAlgorithms } from './options.js';
import { assertionServices } from './services.js';

/** A configured issuer of jwt-bearer assertions (a trusted IdP or a workload issuer). */
export interface AssertionIssuer {
  issuer: string;
  jwksUri?: string | undefined;
  jwks?: PublicJwks | undefined;
  algorithms?: string[] | undefined;
}

/** What an assertion of a given kind must carry besides a trusted issuer's signature. */
export interface AssertionCheck<T extends AssertionIssuer> {
  /** Accepted `aud` values (any one), or how to get them from the assertion's issuer. */
  audience: string | string[] | ((issuer: T) => string | string[]);
  /** Required JOSE `typ`, if any. */
  typ?: string;
  /** Claims that must be present. */
  requiredClaims: string[];
  /** The log line of a refused assertion (the reason is logged, never the JWT). */
  refused: string;
}

/**
 * An RFC 7523 §3 assertion of one of `issuers`: `iss` exactly one of them,
 * signed by its keys (static `jwks`, or `jwksUri` through the SSRF-safe,
 * cached key fetch), `aud`/`typ`/required claims as `check` says, and a
 * bounded lifetime ({@link checkLifetime}). Every refusal is
 * `invalid_grant`; the `jti` is not recorded here (the grant records it once
 * everything else passed).
 */
export async function verifyIssuedAssertion<T extends AssertionIssuer>(
  ctx: ServerContext,
  jwt: string,
  issuers: readonly T[],
  check: AssertionCheck<T>,
): Promise<{ issuer: T; payload: JWTPayload }> {
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(jwt);
  } catch {
    throw invalidGrant('assertion is not a JWT');
  }
  const issuer = issuers.find((i) => i.issuer === unverified.iss);
  if (!issuer) throw invalidGrant('assertion issuer is not trusted');
  let payload: JWTPayload;
  try {
    payload = await assertionServices(ctx).keys.verify(
      jwt,
      issuer.jwks ? { jwks: issuer.jwks } : { jwksUri: issuer.jwksUri! },
      {
        issuer: issuer.issuer,
        audience: typeof check.audience === 'function' ? check.audience(issuer) : check.audience,
        ...(check.typ ? { typ: check.typ } : {}),
        algorithms: issuer.algorithms ?? assertionAlgorithms,
        requiredClaims: check.requiredClaims,
        clockTolerance: ctx.options.tokens.clockSkewSeconds,
        currentDate: new Date(ctx.clock.now()),
      },
    );
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    ctx.log.info(check.refused, {
      issuer: issuer.issuer,
      reason: err instanceof Error ? err.message.slice(0, 200) : 'unknown',
    });
    throw invalidGrant('assertion invalid');
  }
  checkLifetime(ctx, payload, invalidGrant);
  return { issuer, payload };
}
