import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { listen, type Listening } from './listen.js';
import {
  applyFaults,
  bearerToken,
  escapeHtml,
  html,
  parseBasicAuth,
  randomToken,
  readForm,
  redirect,
  s256,
  type StubFaults,
  type StubRequestLog,
} from './idp-stub-shared.js';

/** An end-user of the OIDC stub. */
export interface OidcStubUser {
  sub: string;
  name?: string;
  email?: string;
  preferredUsername?: string;
  groups?: string[];
}

/** A client registered at the OIDC stub. */
export interface OidcStubClient {
  clientId: string;
  /** Absent for public clients (`token_endpoint_auth_method: none`). */
  clientSecret?: string;
  /** Exact redirect URIs; any URI when empty. */
  redirectUris?: string[];
}

/** Endpoints that faults can target. */
export type OidcStubEndpoint = 'discovery' | 'jwks' | 'authorize' | 'token' | 'userinfo';

/** How the next ID tokens are broken, to test relying-party validation. */
export type OidcIdTokenFault =
  'wrong_nonce' | 'missing_nonce' | 'wrong_audience' | 'wrong_issuer' | 'expired' | 'bad_signature';

export interface OidcStubFaults extends StubFaults<OidcStubEndpoint> {
  idToken?: OidcIdTokenFault;
}

export interface OidcStubOptions {
  /** Default one user `alice`. */
  users?: OidcStubUser[];
  /** Default `{ clientId: 'oidc-client', clientSecret: 'oidc-secret' }` accepting any redirect URI. */
  clients?: OidcStubClient[];
  /** `true` (default) approves at once; `false` renders an approve/deny form. */
  autoApprove?: boolean;
  /** `sub` of the approving user; `login_hint` on authorize overrides it. */
  user?: string;
  /** Path of the issuer, e.g. `/realms/test` (Keycloak style). Default none. */
  issuerPath?: string;
  /** ID-token signing algorithm; default RS256 (what every RP must support). */
  alg?: 'RS256' | 'ES256';
  /** Code lifetime; default 60 s. */
  codeTtlMs?: number;
  /** ID and access token lifetime; default 3600 s. */
  tokenTtlSec?: number;
  /** PKCE S256 required for every client (default `true`). */
  requirePkce?: boolean;
  now?: () => number;
  faults?: OidcStubFaults;
  /** Claim name under which users' `groups` are sent (default `groups`). */
  groupsClaim?: string;
  /** Where users' groups are sent: the ID token, userinfo, or both (default `both`). */
  groupsIn?: 'id_token' | 'userinfo' | 'both';
}

export interface OidcStubCode {
  code: string;
  clientId: string;
  sub: string;
  redirectUri: string;
  scope: string;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  issuedAt: number;
  used: boolean;
}

export interface OidcStubToken {
  token: string;
  clientId: string;
  sub: string;
  scope: string;
  uses: number;
}

/** A running OIDC provider stub. */
export interface OidcStub {
  /** Origin of the server. */
  url: string;
  /** Issuer identifier (`url` + `issuerPath`). */
  issuer: string;
  users: OidcStubUser[];
  clients: OidcStubClient[];
  faults: OidcStubFaults;
  user: string;
  autoApprove: boolean;
  codes: Map<string, OidcStubCode>;
  tokens: Map<string, OidcStubToken>;
  /** Signed ID tokens, in issue order. */
  idTokens: string[];
  requests: StubRequestLog[];
  /** Public JWKS as published. */
  jwks(): { keys: JWK[] };
  /** Generates a new signing key; the old one stays in the JWKS. */
  rotateKeys(): Promise<void>;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = randomToken().slice(0, 16);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/**
 * Starts a generic OpenID Connect provider on `127.0.0.1:0`: discovery,
 * JWKS, authorization code flow with PKCE S256, nonce and state, a token
 * endpoint that authenticates clients (`client_secret_basic`,
 * `client_secret_post`, `none`) and issues a signed ID token with jose plus
 * an opaque access token, and userinfo. Faults break any endpoint or the ID token.
 */
export async function startOidcStub(opts: OidcStubOptions = {}): Promise<OidcStub> {
  const now = opts.now ?? Date.now;
  const groupsClaim = opts.groupsClaim ?? 'groups';
  const groupsIn = opts.groupsIn ?? 'both';
  const alg = opts.alg ?? 'RS256';
  const codeTtlMs = opts.codeTtlMs ?? 60_000;
  const tokenTtlSec = opts.tokenTtlSec ?? 3600;
  const requirePkce = opts.requirePkce ?? true;
  const users = opts.users ?? [
    {
      sub: 'alice-1',
      name: 'Alice Example',
      email: 'alice@example.test',
      preferredUsername: 'alice',
      groups: ['staff'],
    },
  ];
  const clients = opts.clients ?? [{ clientId: 'oidc-client', clientSecret: 'oidc-secret' }];
  const codes = new Map<string, OidcStubCode>();
  const tokens = new Map<string, OidcStubToken>();
  const idTokens: string[] = [];
  const requests: StubRequestLog[] = [];
  const pending = new Map<string, URLSearchParams>();
  const keys: SigningKey[] = [await newKey(alg)];
  const rogueKey = await newKey(alg);
  const issuerPath = (opts.issuerPath ?? '').replace(/\/$/, '');

  const state = {
    faults: opts.faults ?? {},
    user: opts.user ?? users[0]?.sub ?? '',
    autoApprove: opts.autoApprove ?? true,
  };
  let issuer = '';

  const findUser = (id: string) => users.find((u) => u.sub === id || u.preferredUsername === id);
  const jwks = () => ({ keys: keys.map((k) => k.publicJwk) });
  const oauthError = (
    status: number,
    error: string,
    description: string,
    headers: Record<string, string> = {},
  ) =>
    Response.json(
      { error, error_description: description },
      { status, headers: { 'cache-control': 'no-store', ...headers } },
    );

  const decide = (params: URLSearchParams, approve: boolean, sub: string): Response => {
    const target = new URL(params.get('redirect_uri')!);
    if (!approve || state.faults.deny) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The end-user denied the request');
    } else {
      const code = randomToken();
      codes.set(code, {
        code,
        clientId: params.get('client_id')!,
        sub,
        redirectUri: params.get('redirect_uri')!,
        scope: params.get('scope') ?? 'openid',
        nonce: params.get('nonce') ?? undefined,
        codeChallenge: params.get('code_challenge') ?? undefined,
        issuedAt: now(),
        used: false,
      });
      target.searchParams.set('code', code);
    }
    const st = params.get('state');
    if (st !== null) target.searchParams.set('state', st);
    target.searchParams.set('iss', issuer);
    return redirect(target);
  };

  const authorize = async (request: Request): Promise<Response> => {
    const fault = await applyFaults(state.faults, 'authorize');
    if (fault) return fault;
    const params = new URL(request.url).searchParams;
    const client = clients.find((c) => c.clientId === params.get('client_id'));
    if (!client) return html('<h1>invalid_client: unknown client_id</h1>', 400);
    const redirectUri = params.get('redirect_uri');
    if (!redirectUri || (client.redirectUris?.length && !client.redirectUris.includes(redirectUri))) {
      return html('<h1>invalid_request: redirect_uri not registered</h1>', 400);
    }
    const back = (error: string, description: string) => {
      const target = new URL(redirectUri);
      target.searchParams.set('error', error);
      target.searchParams.set('error_description', description);
      const st = params.get('state');
      if (st !== null) target.searchParams.set('state', st);
      target.searchParams.set('iss', issuer);
      return redirect(target);
    };
    if (params.get('response_type') !== 'code')
      return back('unsupported_response_type', 'only code is supported');
    if (!(params.get('scope') ?? '').split(' ').includes('openid'))
      return back('invalid_scope', 'openid scope required');
    const challenge = params.get('code_challenge');
    if (challenge && params.get('code_challenge_method') !== 'S256') {
      return back('invalid_request', 'code_challenge_method must be S256');
    }
    if (!challenge && (requirePkce || !client.clientSecret))
      return back('invalid_request', 'code_challenge required');
    const sub = params.get('login_hint') ?? state.user;
    if (state.autoApprove) {
      const user = findUser(sub);
      if (!user) return back('login_required', 'unknown user');
      return decide(params, true, user.sub);
    }
    const id = randomToken();
    pending.set(id, params);
    const options = users
      .map(
        (u) =>
          `<option value="${escapeHtml(u.sub)}"${u.sub === sub ? ' selected' : ''}>${escapeHtml(u.name ?? u.sub)}</option>`,
      )
      .join('');
    return html(
      `<h1>Sign in</h1>
       <form method="post" action="${escapeHtml(issuerPath)}/authorize">
         <input type="hidden" name="pending" value="${id}">
         <label>User <select name="sub">${options}</select></label>
         <button name="decision" value="approve">Continue</button>
         <button name="decision" value="deny">Cancel</button>
       </form>`,
    );
  };

  const authorizeDecision = async (request: Request): Promise<Response> => {
    const form = await readForm(request);
    const params = pending.get(form.get('pending') ?? '');
    if (!params) return html('<h1>unknown or used authorization request</h1>', 400);
    pending.delete(form.get('pending')!);
    const user = findUser(form.get('sub') ?? state.user);
    if (!user) return html('<h1>no such user</h1>', 400);
    return decide(params, form.get('decision') === 'approve', user.sub);
  };

  const signIdToken = async (
    code: OidcStubCode,
    user: OidcStubUser,
    accessToken: string,
  ): Promise<string> => {
    const fault = state.faults.idToken;
    const iat = Math.floor(now() / 1000) - (fault === 'expired' ? 2 * tokenTtlSec : 0);
    const key = fault === 'bad_signature' ? { ...rogueKey, kid: keys.at(-1)!.kid } : keys.at(-1)!;
    const claims: Record<string, unknown> = {
      name: user.name,
      email: user.email,
      email_verified: user.email !== undefined,
      preferred_username: user.preferredUsername,
      ...(groupsIn !== 'userinfo' && user.groups ? { [groupsClaim]: user.groups } : {}),
      // Both RS256 and ES256 hash with SHA-256: at_hash is its left half.
      at_hash: Buffer.from(
        (await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))).slice(0, 16),
      ).toString('base64url'),
    };
    if (fault === 'wrong_nonce') claims.nonce = randomToken();
    else if (fault !== 'missing_nonce' && code.nonce !== undefined) claims.nonce = code.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(fault === 'wrong_issuer' ? `${issuer}-evil` : issuer)
      .setSubject(user.sub)
      .setAudience(fault === 'wrong_audience' ? 'someone-else' : code.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + tokenTtlSec)
      .sign(key.privateKey);
  };

  const token = async (request: Request): Promise<Response> => {
    const fault = await applyFaults(state.faults, 'token');
    if (fault) return fault;
    const form = await readForm(request);
    const basic = parseBasicAuth(request.headers.get('authorization'));
    const clientId = basic?.id ?? form.get('client_id');
    const client = clients.find((c) => c.clientId === clientId);
    const secret = basic?.secret ?? form.get('client_secret');
    const challenge = basic ? { 'www-authenticate': 'Basic realm="oidc-stub"' } : undefined;
    if (!client) return oauthError(401, 'invalid_client', 'client authentication failed', challenge);
    if (client.clientSecret !== undefined ? secret !== client.clientSecret : secret !== null) {
      return oauthError(401, 'invalid_client', 'client authentication failed', challenge);
    }
    if (form.get('grant_type') !== 'authorization_code') {
      return oauthError(400, 'unsupported_grant_type', 'only authorization_code is supported');
    }
    const issued = codes.get(form.get('code') ?? '');
    if (!issued || issued.clientId !== client.clientId)
      return oauthError(400, 'invalid_grant', 'unknown code');
    if (issued.used) return oauthError(400, 'invalid_grant', 'code already used');
    if (now() - issued.issuedAt > codeTtlMs) return oauthError(400, 'invalid_grant', 'code expired');
    if (form.get('redirect_uri') !== issued.redirectUri)
      return oauthError(400, 'invalid_grant', 'redirect_uri mismatch');
    if (issued.codeChallenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) return oauthError(400, 'invalid_grant', 'code_verifier required');
      if ((await s256(verifier)) !== issued.codeChallenge)
        return oauthError(400, 'invalid_grant', 'PKCE verification failed');
    } else if (form.get('code_verifier') !== null) {
      return oauthError(400, 'invalid_grant', 'code_verifier sent without a challenge');
    }
    issued.used = true;
    const user = findUser(issued.sub)!;
    const access = randomToken('at_');
    tokens.set(access, {
      token: access,
      clientId: client.clientId,
      sub: user.sub,
      scope: issued.scope,
      uses: 0,
    });
    const idToken = await signIdToken(issued, user, access);
    idTokens.push(idToken);
    return Response.json(
      {
        access_token: access,
        token_type: 'Bearer',
        expires_in: tokenTtlSec,
        scope: issued.scope,
        id_token: idToken,
      },
      { headers: { 'cache-control': 'no-store' } },
    );
  };

  const userinfo = async (request: Request): Promise<Response> => {
    const fault = await applyFaults(state.faults, 'userinfo');
    if (fault) return fault;
    const raw = bearerToken(request.headers.get('authorization'));
    const tok = raw ? tokens.get(raw) : undefined;
    if (!tok) {
      return new Response(null, {
        status: 401,
        headers: { 'www-authenticate': raw ? 'Bearer error="invalid_token"' : 'Bearer' },
      });
    }
    tok.uses++;
    const user = findUser(tok.sub)!;
    const scopes = tok.scope.split(' ');
    return Response.json({
      sub: user.sub,
      ...(scopes.includes('profile') ? { name: user.name, preferred_username: user.preferredUsername } : {}),
      ...(scopes.includes('email') && user.email ? { email: user.email, email_verified: true } : {}),
      ...(groupsIn !== 'id_token' && user.groups ? { [groupsClaim]: user.groups } : {}),
    });
  };

  const discovery = () =>
    Response.json({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [alg],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      scopes_supported: ['openid', 'profile', 'email'],
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'nonce',
        'name',
        'email',
        'preferred_username',
        'groups',
      ],
      authorization_response_iss_parameter_supported: true,
    });

  const server: Listening = await listen(async (request) => {
    const url = new URL(request.url);
    requests.push({
      method: request.method,
      path: url.pathname,
      authorization: request.headers.get('authorization') ?? undefined,
      at: now(),
    });
    if (!url.pathname.startsWith(issuerPath)) return Response.json({ error: 'not_found' }, { status: 404 });
    const path = url.pathname.slice(issuerPath.length);
    switch (`${request.method} ${path}`) {
      case 'GET /.well-known/openid-configuration':
        return (await applyFaults(state.faults, 'discovery')) ?? discovery();
      case 'GET /jwks':
        return (await applyFaults(state.faults, 'jwks')) ?? Response.json(jwks());
      case 'GET /authorize':
        return authorize(request);
      case 'POST /authorize':
        return authorizeDecision(request);
      case 'POST /token':
        return token(request);
      case 'GET /userinfo':
      case 'POST /userinfo':
        return userinfo(request);
      default:
        return Response.json({ error: 'not_found' }, { status: 404 });
    }
  });
  issuer = server.url + issuerPath;

  return {
    url: server.url,
    issuer,
    users,
    clients,
    get faults() {
      return state.faults;
    },
    set faults(v) {
      state.faults = v;
    },
    get user() {
      return state.user;
    },
    set user(v) {
      state.user = v;
    },
    get autoApprove() {
      return state.autoApprove;
    },
    set autoApprove(v) {
      state.autoApprove = v;
    },
    codes,
    tokens,
    idTokens,
    requests,
    jwks,
    async rotateKeys() {
      keys.push(await newKey(alg));
    },
    close: () => server.close(),
  };
}
