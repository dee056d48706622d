import { z } from 'zod';
import { epochSeconds, systemClock, type Clock } from '../clock.js';
import { readBody } from '../http/body.js';
import { temporarilyUnavailable } from '../http/errors.js';
import { InsufficientScopeError, InvalidTokenError } from '../tokens/errors.js';
import type { AccessTokenClaims } from '../tokens/access-token.js';
import {
  checkDpopBinding,
  type VerifiedAccessToken,
  type VerifyAccessTokenOptions,
} from '../tokens/verifier.js';
import { canonicalResource } from './canonical.js';
import { boundedGroups } from '../tokens/groups.js';

export interface IntrospectionVerifierOptions {
  /** The authorization server's issuer identifier; `iss` must equal it. */
  issuer: string;
  /** Its RFC 7662 endpoint (default `<issuer>/introspect`). */
  introspectionEndpoint?: string;
  /** A confidential client of that server (introspection requires client authentication). */
  clientId: string;
  clientSecret: string;
  /** Gives up after this long and answers 503 (default 5000 ms). */
  timeoutMs?: number;
  clock?: Clock;
}

/** Introspection answers are small; a larger one is not from our server. */
const MAX_RESPONSE_BYTES = 16 * 1024;

const activeToken = z.object({
  active: z.literal(true),
  token_type: z.enum(['Bearer', 'DPoP']),
  cnf: z.object({ jkt: z.string().optional() }).optional(),
  iss: z.string(),
  sub: z.string(),
  client_id: z.string(),
  scope: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
  iat: z.number(),
  jti: z.string(),
  username: z.string().optional(),
  groups: z.array(z.unknown()).optional(),
});

/**
 * A verifier for resource servers in another process that asks the
 * authorization server (RFC 7662 `/introspect`) about every token: unlike the
 * JWKS verifier it sees revocations without sharing the server's store, at
 * the price of one HTTP round trip per request. Same checks and errors as
 * `verifyAccessToken`: audience against the resource (canonical form),
 * scopes, expiry; an inactive token is `invalid_token`, an unreachable or
 * failing endpoint `temporarily_unavailable` (503).
 *
 * ```ts
 * const verify = createIntrospectionVerifier({ issuer, clientId, clientSecret });
 * app.post('/mcp', bearerAuth({ verifier: verify, resource }), handler);
 * ```
 */
export function createIntrospectionVerifier(
  options: IntrospectionVerifierOptions,
): (token: string, opts: VerifyAccessTokenOptions) => Promise<VerifiedAccessToken> {
  const endpoint = options.introspectionEndpoint ?? `${options.issuer.replace(/\/+$/, '')}/introspect`;
  const clock = options.clock ?? systemClock;
  const basic = `Basic ${btoa(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  )}`;

  async function introspect(token: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization: basic,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        redirect: 'manual',
      });
    } catch {
      throw temporarilyUnavailable('token introspection unreachable');
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw temporarilyUnavailable(`token introspection answered ${res.status}`);
    }
    try {
      const body = await readBody(res, MAX_RESPONSE_BYTES);
      return JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw temporarilyUnavailable('token introspection answered an unreadable body');
    }
  }

  return async (token, opts) => {
    if (token.length > 8192) throw new InvalidTokenError('malformed', 'token malformed');
    const parsed = activeToken.safeParse(await introspect(token));
    if (!parsed.success) throw new InvalidTokenError('revoked', 'token not active');
    const t = parsed.data;
    if (t.iss !== options.issuer) throw new InvalidTokenError('issuer', 'token issuer mismatch');
    if (t.exp <= epochSeconds(clock.now())) throw new InvalidTokenError('expired', 'token expired');
    const resource = canonicalResource(opts.resource) ?? opts.resource;
    const audiences = Array.isArray(t.aud) ? t.aud : [t.aud];
    const aud = audiences.find((a) => (canonicalResource(a) ?? a) === resource);
    if (aud === undefined) throw new InvalidTokenError('audience', 'token not valid for this resource');
    const cnf = t.cnf?.jkt !== undefined ? { jkt: t.cnf.jkt } : undefined;
    checkDpopBinding({ ...(cnf ? { cnf } : {}) }, opts.dpopKey);
    const scopes = (t.scope ?? '').split(' ').filter(Boolean);
    if ((opts.scopes ?? []).some((s) => !scopes.includes(s)))
      throw new InsufficientScopeError(opts.scopes ?? [], scopes);
    const groups = boundedGroups(t.groups);
    const claims: AccessTokenClaims = {
      iss: t.iss,
      sub: t.sub,
      aud,
      exp: t.exp,
      iat: t.iat,
      jti: t.jti,
      client_id: t.client_id,
      scope: scopes.join(' '),
      fid: '', // not disclosed by introspection
      ...(t.username !== undefined ? { login: t.username } : {}),
      ...(groups ? { groups } : {}),
      ...(cnf ? { cnf } : {}),
    };
    return {
      claims,
      sub: t.sub,
      clientId: t.client_id,
      scopes,
      login: t.username,
      name: undefined,
      groups,
      expiresAt: t.exp,
    };
  };
}
