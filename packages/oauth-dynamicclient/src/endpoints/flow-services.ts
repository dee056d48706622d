import { boundFamilies } from '../tokens/family-bound.js';
import type { ServerContext } from '../context.js';
import { BrowserBinding } from '../idp/browser-binding.js';
import { ConsentMemory } from '../idp/consent-memory.js';
import { githubIdentityProvider } from '../idp/github.js';
import { localIdentityProvider } from '../idp/local.js';
import { oidcIdentityProvider } from '../idp/oidc.js';
import type { IdentityProvider, LoginFailure } from '../idp/types.js';
import { Pages } from '../pages/pages.js';
import { AccessTokenIssuer } from '../tokens/access-token.js';
import { AuthorizationCodes } from '../tokens/codes.js';
import { Grants, type Grant } from '../tokens/grants.js';
import { KeyManager } from '../tokens/keys.js';
import { RefreshTokens } from '../tokens/refresh.js';
import { RevocationList } from '../tokens/revocation.js';
import { AccessTokenVerifier } from '../tokens/verifier.js';
import type { IdentityProviderConfig } from './flow-options.js';

declare module '../audit/events.js' {
  interface AuditEventMap {
    /** An upstream or local login did not produce an admitted user. `who` is a login name, never a credential. */
    'login.failed': { provider: string; reason: LoginFailure; who?: string };
    /** A user approved a client (consent remembered in the grant). */
    'consent.given': { clientId: string; sub: string; scopes: string[]; resource: string; grantId: string };
    /** A grant was revoked (consent withdrawn), with every token issued under it. */
    'consent.withdrawn': { clientId: string; sub: string; grantId: string; source: string };
    /** Tokens were issued for an authorization code, or by an operator grant (`source: 'operator'`). */
    'token.issued': {
      clientId: string;
      sub: string;
      familyId: string;
      jti: string;
      scopes: string[];
      resource: string;
      refresh: boolean;
      source?: 'operator';
    };
    /** A refresh token was rotated. */
    'token.refreshed': {
      clientId: string;
      sub: string;
      familyId: string;
      jti: string;
      scopes: string[];
      repeated: boolean;
    };
    /** A token was revoked through RFC 7009, or its family as the oldest past `tokens.maxFamiliesPerGrant`. */
    'token.revoked': {
      clientId: string;
      kind: 'access_token' | 'refresh_token';
      familyId?: string;
      jti?: string;
    };
    /** A used refresh token came back after the grace window: its family was revoked. */
    'refresh.reuse_detected': { clientId: string; sub: string; familyId: string };
    /** A redeemed authorization code came back: the tokens issued from it were revoked. */
    'code.replayed': { clientId: string; sub: string; familyId: string };
  }
}

/** The services behind the login and token endpoints, one set per server. */
export interface FlowServices {
  keys: KeyManager;
  accessTokens: AccessTokenIssuer;
  verifier: AccessTokenVerifier;
  revocations: RevocationList;
  refresh: RefreshTokens;
  codes: AuthorizationCodes;
  grants: Grants;
  idp: IdentityProvider;
  pages: Pages;
  binding: BrowserBinding;
  /** The clients a browser approved before a third-party sign-in (a signed cookie). */
  consentMemory: ConsentMemory;
  /** Revokes a grant: consent withdrawn, every token family under it revoked. */
  revokeGrant(grant: Grant, source: string): Promise<void>;
  /**
   * Records a new token family under its grant, keeping at most `tokens.maxFamiliesPerGrant`
   * live ones (the oldest beyond it revoked, see `boundFamilies`).
   */
  addFamily(grant: { id: string; clientId: string }, familyId: string): Promise<void>;
}

const registry = new WeakMap<ServerContext, FlowServices>();

/** The flow services of a server context (created by the flows plugin). */
export function flowServices(ctx: ServerContext): FlowServices {
  const s = registry.get(ctx);
  if (!s) throw new Error('flows plugin not set up for this server');
  return s;
}

/** Builds an identity provider from declarative configuration. */
export function createIdentityProvider(config: IdentityProviderConfig): IdentityProvider {
  switch (config.type) {
    case 'github': {
      const { type: _t, ...rest } = config;
      return githubIdentityProvider(rest);
    }
    case 'oidc': {
      const { type: _t, ...rest } = config;
      return oidcIdentityProvider(rest);
    }
    case 'local':
      return localIdentityProvider({
        users: config.users ?? [],
        ...(config.passwordCost ? { passwordCost: config.passwordCost } : {}),
      });
  }
}

/** Creates the flow services for `ctx` (synchronously; keys load lazily). */
export function createFlowServices(ctx: ServerContext): FlowServices {
  const o = ctx.options;
  const { store, clock, ids } = ctx;
  const accessTtlMs = o.tokens.accessTokenTtlSeconds * 1000;
  const keys = new KeyManager({
    store,
    clock,
    alg: o.tokens.signingAlgorithm,
    retainRetiredMs: accessTtlMs + o.tokens.clockSkewSeconds * 1000 + 60_000,
  });
  const revocations = new RevocationList(store, clock);
  const accessTokens = new AccessTokenIssuer({
    issuer: ctx.issuer,
    keys,
    clock,
    ids,
    ttlSeconds: o.tokens.accessTokenTtlSeconds,
  });
  const verifier = new AccessTokenVerifier({
    issuer: ctx.issuer,
    clock,
    clockSkewSeconds: o.tokens.clockSkewSeconds,
    cacheSize: o.tokens.verifyCacheSize,
    key: async (header) => {
      const k = header.kid ? await keys.verificationKey(header.kid) : undefined;
      return k && k.alg === header.alg ? k.key : undefined;
    },
    isRevoked: (jti, fid) => revocations.isRevoked(jti, fid),
  });
  const refresh = new RefreshTokens({
    store,
    clock,
    ids,
    revocations,
    ttlMs: o.tokens.refreshTokenTtlSeconds * 1000,
    graceMs: o.tokens.refreshGraceSeconds * 1000,
    accessTokenTtlMs: accessTtlMs,
    onReuse: (r) => ctx.audit.emit('refresh.reuse_detected', r),
  });
  const codes = new AuthorizationCodes({
    store,
    clock,
    ids,
    ttlMs: o.tokens.codeTtlSeconds * 1000,
    replayWindowMs: Math.max(accessTtlMs, 10 * 60_000),
  });
  const grants = new Grants(store, clock);
  const idpOption = o.identityProvider;
  const idp: IdentityProvider =
    idpOption === undefined
      ? localIdentityProvider({ users: [] })
      : 'begin' in idpOption
        ? idpOption
        : createIdentityProvider(idpOption);
  const pages = new Pages(o.pages);
  const binding = new BrowserBinding(store, ids, ctx.issuer, '/', o.loginTtlSeconds);
  const consentMemory = new ConsentMemory(binding, clock, ctx.issuer, o.rememberConsentSeconds);

  const services: FlowServices = {
    keys,
    accessTokens,
    verifier,
    revocations,
    refresh,
    codes,
    grants,
    idp,
    pages,
    binding,
    consentMemory,
    async addFamily(grant, familyId) {
      await grants.addFamily(grant.id, familyId);
      const revoked = await boundFamilies(grants, refresh, grant.id, o.tokens.maxFamiliesPerGrant);
      for (const id of revoked) {
        ctx.audit.emit('token.revoked', { clientId: grant.clientId, kind: 'refresh_token', familyId: id });
      }
    },
    async revokeGrant(grant, source) {
      const families = await grants.remove(grant);
      for (const fid of families) await refresh.revokeFamily(fid);
      ctx.audit.emit('consent.withdrawn', {
        clientId: grant.clientId,
        sub: grant.sub,
        grantId: grant.id,
        source,
      });
    },
  };
  registry.set(ctx, services);

  idp.attach?.({
    store,
    clock,
    ids,
    pages,
    endpoint: (p) => ctx.endpoint(p),
    path: (p) => `${ctx.issuerPath}${p}`,
    callbackUrl: ctx.endpoint('/callback'),
    loginFailed: (input) => ctx.audit.emit('login.failed', input),
    binding,
  });

  // A deleted client loses every grant and token (RFC 7592 §2.3).
  ctx.clients.onDeleted(async (clientId) => {
    for (const grant of await grants.listByClient(clientId))
      await services.revokeGrant(grant, 'client_deleted');
  });
  return services;
}
