import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { listen, type Listening } from './listen.js';
import { parseBasicAuth, randomToken, readForm, type StubRequestLog } from './idp-stub-shared.js';

/** RFC 8693 token-exchange grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The token type of an Identity Assertion JWT Authorization Grant. */
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
/** RFC 8693 token type of an OIDC ID token. */
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** A client of the enterprise IdP (the MCP client's app registration there). */
export interface EnterpriseIdpClient {
  clientId: string;
  clientSecret: string;
  /** The `client_id` this app has at the resource's authorization server (the ID-JAG's `client_id`). Default `clientId`. */
  resourceClientId?: string;
}

export interface EnterpriseIdpStubOptions {
  /** Default `{ clientId: 'idp-client', clientSecret: 'idp-secret' }`. */
  clients?: EnterpriseIdpClient[];
  /** ID-JAG lifetime in seconds (default 300). */
  jagTtlSec?: number;
  now?: () => number;
}

/** An ID-JAG the stub issued, for assertions. */
export interface IssuedJag {
  jwt: string;
  claims: JWTPayload;
}

/** A running enterprise IdP stub. */
export interface EnterpriseIdpStub extends Listening {
  /** The issuer identifier (the stub's base URL). */
  issuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** The public signing keys (for configuring a trusted IdP with inline `jwks`). */
  jwks(): { keys: JWK[] };
  /** An ID token for `sub`, audience `clientId` (what the user's SSO login would give the app). */
  idToken(sub: string, clientId?: string): Promise<string>;
  /**
   * Signs any claims as an ID-JAG with the IdP's key (default header
   * `typ: oauth-id-jag+jwt`): for tests of what a resource AS must refuse.
   */
  signJag(claims: JWTPayload, header?: { typ?: string }): Promise<string>;
  /** Every ID-JAG issued through token exchange. */
  readonly issued: IssuedJag[];
  readonly requests: StubRequestLog[];
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
const oauthError = (error: string, description: string, status = 400) =>
  json({ error, error_description: description }, status);

/**
 * An enterprise IdP for the MCP enterprise-managed authorization (SEP-990,
 * cross-app access): it issues ID tokens for its users and exchanges them
 * (RFC 8693, `requested_token_type=urn:ietf:params:oauth:token-type:id-jag`,
 * `audience` = the resource AS's issuer, `resource` = the MCP server) for
 * ID-JAGs signed with the key published at `/jwks`. Serves RFC 8414 and
 * OpenID discovery so SDK helpers find the token endpoint.
 */
export async function startEnterpriseIdpStub(
  opts: EnterpriseIdpStubOptions = {},
): Promise<EnterpriseIdpStub> {
  const now = opts.now ?? Date.now;
  const clients = opts.clients ?? [{ clientId: 'idp-client', clientSecret: 'idp-secret' }];
  const jagTtl = opts.jagTtlSec ?? 300;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomToken('k');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const issued: IssuedJag[] = [];
  const requests: StubRequestLog[] = [];
  let issuer = '';
  const nowS = () => Math.floor(now() / 1000);

  const sign = (claims: JWTPayload, typ: string, ttl: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ })
      .setIssuer(issuer)
      .setIssuedAt(nowS())
      .setExpirationTime(nowS() + ttl)
      .setJti(crypto.randomUUID())
      .sign(privateKey);

  async function token(request: Request): Promise<Response> {
    const form = await readForm(request);
    const basic = parseBasicAuth(request.headers.get('authorization'));
    const id = basic?.id ?? form.get('client_id') ?? '';
    const secret = basic?.secret ?? form.get('client_secret') ?? '';
    const client = clients.find((c) => c.clientId === id && c.clientSecret === secret);
    if (!client) return oauthError('invalid_client', 'client authentication failed', 401);
    if (form.get('grant_type') !== TOKEN_EXCHANGE_GRANT)
      return oauthError('unsupported_grant_type', 'only token exchange');
    if (form.get('requested_token_type') !== ID_JAG_TOKEN_TYPE)
      return oauthError('invalid_request', 'requested_token_type must be id-jag');
    if (form.get('subject_token_type') !== ID_TOKEN_TYPE)
      return oauthError('invalid_request', 'subject_token_type must be id_token');
    const audience = form.get('audience');
    const resource = form.get('resource');
    if (!audience || !resource) return oauthError('invalid_request', 'audience and resource are required');
    let subject: JWTPayload;
    try {
      ({ payload: subject } = await jwtVerify(form.get('subject_token') ?? '', publicKey, {
        issuer,
        audience: client.clientId,
        currentDate: new Date(now()),
      }));
    } catch {
      return oauthError('invalid_grant', 'subject_token is not a valid ID token of this IdP');
    }
    const scope = form.get('scope') ?? undefined;
    const claims: JWTPayload = {
      sub: subject.sub,
      aud: audience,
      client_id: client.resourceClientId ?? client.clientId,
      resource,
      ...(scope ? { scope } : {}),
    };
    const jwt = await sign(claims, 'oauth-id-jag+jwt', jagTtl);
    issued.push({ jwt, claims });
    return json({
      access_token: jwt,
      issued_token_type: ID_JAG_TOKEN_TYPE,
      token_type: 'N_A',
      expires_in: jagTtl,
      ...(scope ? { scope } : {}),
    });
  }

  const srv = await listen(async (request) => {
    const url = new URL(request.url);
    requests.push({ method: request.method, path: url.pathname, at: now() });
    if (
      request.method === 'GET' &&
      (url.pathname === '/.well-known/oauth-authorization-server' ||
        url.pathname === '/.well-known/openid-configuration')
    ) {
      return json({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        grant_types_supported: [TOKEN_EXCHANGE_GRANT],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
    if (request.method === 'GET' && url.pathname === '/jwks') return json({ keys: [publicJwk] });
    if (request.method === 'POST' && url.pathname === '/token') return token(request);
    return oauthError('not_found', 'no such endpoint', 404);
  });
  issuer = srv.url;

  return {
    ...srv,
    issuer,
    tokenEndpoint: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    jwks: () => ({ keys: [publicJwk] }),
    idToken: (sub, clientId = clients[0]!.clientId) => sign({ sub, aud: clientId }, 'JWT', 3600),
    async signJag(claims, header = {}) {
      const typ = header.typ ?? 'oauth-id-jag+jwt';
      return new SignJWT({
        jti: crypto.randomUUID(),
        iat: nowS(),
        exp: nowS() + jagTtl,
        iss: issuer,
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ })
        .sign(privateKey);
    },
    issued,
    requests,
  };
}
