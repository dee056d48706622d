import { SignJWT } from 'jose';
import { epochSeconds, type Clock } from '../clock.js';
import type { IdGenerator } from '../ids.js';
import { boundedGroups } from './groups.js';
import type { KeyManager } from './keys.js';

/** The claims of an RFC 9068 access token issued by this server. */
export interface AccessTokenClaims {
  iss: string;
  /** The user (IdP-qualified id, e.g. `github:583231`). */
  sub: string;
  /** The one resource (RFC 8707, canonical) the token is for. */
  aud: string;
  client_id: string;
  /** Space-separated granted scopes. */
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  /** Token family (every token descending from one authorization code); used for revocation. */
  fid: string;
  /** The user's login (GitHub login, OIDC preferred_username, local user name). */
  login?: string;
  /** The user's display name. */
  name?: string;
  /** The user's groups at sign-in (bounded: see `tokens/groups.ts`), for authorization. */
  groups?: string[];
  /** RFC 9449 §6: the DPoP key the token is bound to (SHA-256 JWK thumbprint). */
  cnf?: { jkt?: string };
}

/** What an access token is issued for. */
export interface AccessTokenInput {
  sub: string;
  clientId: string;
  resource: string;
  scopes: string[];
  familyId: string;
  login?: string;
  name?: string;
  /** Group memberships; bounded here again before signing. */
  groups?: string[];
  /** Bind the token to this DPoP key (`cnf.jkt`). */
  jkt?: string;
}

/** An issued access token. */
export interface IssuedAccessToken {
  token: string;
  jti: string;
  /** `exp`, seconds since the epoch. */
  exp: number;
  /** Lifetime in seconds (the token response's `expires_in`). */
  expiresIn: number;
}

/** Signs RFC 9068 JWT access tokens (`typ: at+jwt`) with the active key. */
export class AccessTokenIssuer {
  constructor(
    private readonly opts: {
      issuer: string;
      keys: KeyManager;
      clock: Clock;
      ids: IdGenerator;
      ttlSeconds: number;
    },
  ) {}

  async issue(input: AccessTokenInput): Promise<IssuedAccessToken> {
    const { kid, alg, key } = await this.opts.keys.signingKey();
    const iat = epochSeconds(this.opts.clock.now());
    const exp = iat + this.opts.ttlSeconds;
    const jti = this.opts.ids.uuid();
    const claims: Record<string, unknown> = {
      client_id: input.clientId,
      scope: input.scopes.join(' '),
      fid: input.familyId,
    };
    if (input.login !== undefined) claims.login = input.login;
    if (input.name !== undefined) claims.name = input.name;
    const groups = boundedGroups(input.groups);
    if (groups) claims.groups = groups;
    if (input.jkt !== undefined) claims.cnf = { jkt: input.jkt };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(this.opts.issuer)
      .setSubject(input.sub)
      .setAudience(input.resource)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(key);
    return { token, jti, exp, expiresIn: this.opts.ttlSeconds };
  }
}
