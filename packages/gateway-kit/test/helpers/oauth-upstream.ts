// A protected MCP upstream for upstream sign-in tests: an RFC 9728 document, an authorization
// server (RFC 8414 / OIDC metadata, RFC 7591 registration, /authorize that approves at once,
// /token with PKCE and refresh tokens) that records what it is sent, and an MCP endpoint
// (fetch-server, both protocol eras) that takes only the access tokens it (or a server it trusts)
// issued. Where the documents are served and what they say is the test's to change. Real HTTP on
// 127.0.0.1.
import { createHash } from 'node:crypto';
import { createFetchServer, silentLogger } from '@mcp-gateway/fetch-server';
import { listen, type Listening } from '@mcp-gateway/testkit';

/** One token request the authorization server received. */
export interface TokenRequest {
  grantType: string | null;
  code: string | null;
  clientId: string | null;
  redirectUri: string | null;
  refreshToken?: string | null;
  /** The secret of HTTP Basic client authentication, when sent. */
  clientSecret?: string | null;
}

/** Where an RFC 9728 document is served: path-inserted, at the root, or only where the 401 challenge says. */
export type ResourceMetadataAt = 'path' | 'root' | 'challenge';
/** Where the authorization server metadata is served, relative to its issuer's path (RFC 8414 / OIDC). */
export type ServerMetadataAt = 'oauth' | 'oidc' | 'oidc-appended';

export interface OAuthUpstream extends Listening {
  /** The MCP endpoint (the service's `url`). */
  resource: string;
  /** Registered clients: id → redirect URIs. */
  clients: Map<string, string[]>;
  /** Codes this server issued. */
  codes: string[];
  /** Every token request, in order. */
  tokenRequests: TokenRequest[];
  /** Paths requested, in order. */
  hits: string[];
  /** The authorization server's issuer (default: the origin); its endpoints stay at the origin. */
  issuer: string;
  /** `issuer` of its metadata (default: {@link issuer}). */
  metadataIssuer?: string;
  /** `authorization_servers` of its RFC 9728 document (default: its own issuer). */
  authorizationServers?: string[];
  /** `scopes_supported` of its RFC 9728 document (default: none). */
  scopesSupported?: string[];
  /** Where the RFC 9728 document is served (default: `['path']`). */
  resourceMetadataAt: ResourceMetadataAt[];
  /** Where the authorization server metadata is served (default: `['oauth']`). */
  serverMetadataAt: ServerMetadataAt[];
  /** `Cache-Control` of both metadata documents (default: none). */
  cacheControl?: string;
  /** Taken down: every path answers 404 (requests are still counted in {@link hits}). */
  gone?: boolean;
  /** `expires_in` of the access tokens it issues (default 3600). */
  expiresIn: number;
  /** Access tokens it issued. */
  issued: Set<string>;
  /** Tokens sent to its revocation endpoint, in order. */
  revoked: string[];
  /** Servers whose access tokens its MCP endpoint takes too (an authorization server it moved to). */
  trusts: OAuthUpstream[];
  /** Bodies of the MCP requests it served with a valid token, in order. */
  mcpBodies: unknown[];
  /** The query of every `/authorize` request, in order. */
  authorizeQueries: URLSearchParams[];
  /** `authorization_endpoint` of its metadata (default: its own `/authorize`). */
  authorizationEndpoint?: string;
  /** `scope` of the 401 challenge of its MCP endpoint (default: none). */
  challengeScope?: string;
  /**
   * The scopes an MCP request needs (space-separated; `undefined`: none): a token granted fewer is
   * refused with 403 `insufficient_scope` naming them.
   */
  requiredScope?: (body: unknown) => string | undefined;
  /** What it grants of the scope asked for (default: all of it). */
  grant?: (asked: string) => string;
  /**
   * The OAuth error its `/authorize` sends the browser back with, given the scope asked for
   * (`undefined`: none, a code is issued); e.g. `invalid_scope`.
   */
  refuse?: (asked: string) => string | undefined;
  /** The scope granted with each access token it issued. */
  tokenScopes: Map<string, string>;
  /**
   * A malicious server: where `/authorize` sends the browser instead of back to the gateway, given
   * the request's query (the mix-up attack bounces it to another server's `/authorize`).
   */
  bounce?: (query: URLSearchParams) => string;
}

/** Starts an upstream named `name` (its client ids, codes and tokens say it); its `fetch` tool reads 127.0.0.1 only. */
export async function startOAuthUpstream(name: string): Promise<OAuthUpstream> {
  const mcp = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true, logger: silentLogger });
  const pending = new Map<
    string,
    { clientId: string; redirectUri: string; challenge: string; scope: string }
  >();
  const refreshTokens = new Map<string, string>();
  const refreshScopes = new Map<string, string>();
  let n = 0;
  const up = {} as OAuthUpstream;
  /** Paths of the documents as the test set them up now. */
  const documents = () => {
    const issuerPath = new URL(up.issuer).pathname.replace(/\/+$/, '');
    const at: Record<ServerMetadataAt, string> = {
      oauth: `/.well-known/oauth-authorization-server${issuerPath}`,
      oidc: `/.well-known/openid-configuration${issuerPath}`,
      'oidc-appended': `${issuerPath}/.well-known/openid-configuration`,
    };
    const rs: Record<ResourceMetadataAt, string> = {
      path: '/.well-known/oauth-protected-resource/mcp',
      root: '/.well-known/oauth-protected-resource',
      challenge: '/meta/resource.json',
    };
    return {
      server: new Set(up.serverMetadataAt.map((k) => at[k])),
      resource: new Set(up.resourceMetadataAt.map((k) => rs[k])),
      challenge: up.resourceMetadataAt.includes('challenge') ? rs.challenge : rs.path,
    };
  };
  const issue = (clientId: string, scope = '') => {
    const token = `${name}-at-${++n}`;
    const refresh = `${name}-rt-${++n}`;
    up.issued.add(token);
    up.tokenScopes.set(token, scope);
    refreshTokens.set(refresh, clientId);
    refreshScopes.set(refresh, scope);
    return Response.json({
      access_token: token,
      token_type: 'Bearer',
      expires_in: up.expiresIn,
      refresh_token: refresh,
      ...(scope ? { scope } : {}),
    });
  };
  const server = await listen(async (request) => {
    const url = new URL(request.url);
    up.hits.push(url.pathname);
    if (up.gone) return new Response('gone', { status: 404 });
    const docs = documents();
    const cache: ResponseInit = { headers: up.cacheControl ? { 'cache-control': up.cacheControl } : {} };
    if (docs.resource.has(url.pathname))
      return Response.json(
        {
          resource: up.resource,
          authorization_servers: up.authorizationServers ?? [up.issuer],
          ...(up.scopesSupported ? { scopes_supported: up.scopesSupported } : {}),
        },
        cache,
      );
    if (docs.server.has(url.pathname))
      return Response.json(
        {
          issuer: up.metadataIssuer ?? up.issuer,
          authorization_endpoint: up.authorizationEndpoint ?? `${up.url}/authorize`,
          token_endpoint: `${up.url}/token`,
          registration_endpoint: `${up.url}/register`,
          revocation_endpoint: `${up.url}/revoke`,
          code_challenge_methods_supported: ['S256'],
        },
        cache,
      );
    switch (url.pathname) {
      case '/register': {
        const body = (await request.json()) as { redirect_uris: string[] };
        const clientId = `${name}-client-${++n}`;
        up.clients.set(clientId, body.redirect_uris);
        return Response.json({ client_id: clientId, redirect_uris: body.redirect_uris }, { status: 201 });
      }
      case '/authorize': {
        const q = url.searchParams;
        up.authorizeQueries.push(new URLSearchParams(q));
        if (up.bounce) return Response.redirect(up.bounce(q), 302);
        const clientId = q.get('client_id') ?? '';
        const redirectUri = q.get('redirect_uri') ?? '';
        if (!up.clients.get(clientId)?.includes(redirectUri))
          return new Response('unknown client or redirect_uri', { status: 400 });
        const asked = q.get('scope') ?? '';
        const refused = up.refuse?.(asked);
        if (refused) {
          const back = new URL(redirectUri);
          back.searchParams.set('error', refused);
          back.searchParams.set('state', q.get('state') ?? '');
          return Response.redirect(back.href, 302);
        }
        const code = `${name}-code-${++n}`;
        up.codes.push(code);
        pending.set(code, {
          clientId,
          redirectUri,
          challenge: q.get('code_challenge') ?? '',
          scope: up.grant ? up.grant(asked) : asked,
        });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state') ?? '');
        return Response.redirect(back.href, 302);
      }
      case '/token': {
        const form = new URLSearchParams(await request.text());
        const basic = request.headers.get('authorization');
        const [basicId, basicSecret] = basic
          ? Buffer.from(basic.slice(6), 'base64').toString().split(':').map(decodeURIComponent)
          : [];
        const clientId = form.get('client_id') ?? basicId ?? null;
        up.tokenRequests.push({
          grantType: form.get('grant_type'),
          code: form.get('code'),
          clientId,
          redirectUri: form.get('redirect_uri'),
          refreshToken: form.get('refresh_token'),
          clientSecret: basicSecret ?? form.get('client_secret'),
        });
        if (form.get('grant_type') === 'refresh_token') {
          const owner = refreshTokens.get(form.get('refresh_token') ?? '');
          if (!owner || owner !== clientId) return Response.json({ error: 'invalid_grant' }, { status: 400 });
          const scope = refreshScopes.get(form.get('refresh_token')!);
          refreshTokens.delete(form.get('refresh_token')!);
          return issue(clientId, scope);
        }
        const grant = pending.get(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (
          !grant ||
          grant.clientId !== clientId ||
          grant.redirectUri !== form.get('redirect_uri') ||
          grant.challenge !== challenge
        )
          return Response.json({ error: 'invalid_grant' }, { status: 400 });
        pending.delete(form.get('code')!);
        return issue(grant.clientId, grant.scope);
      }
      case '/mcp': {
        const token = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '');
        const metadata = `resource_metadata="${up.url}${docs.challenge}"`;
        if (![up, ...up.trusts].some((s) => s.issued.has(token)))
          return new Response(null, {
            status: 401,
            headers: {
              'www-authenticate': `Bearer ${up.challengeScope ? `scope="${up.challengeScope}", ` : ''}${metadata}`,
            },
          });
        const text = request.method === 'POST' ? await request.text() : undefined;
        const needed = text === undefined ? undefined : up.requiredScope?.(JSON.parse(text));
        const granted = new Set((up.tokenScopes.get(token) ?? '').split(' '));
        if (needed && !needed.split(' ').every((s) => granted.has(s)))
          return new Response(null, {
            status: 403,
            headers: {
              'www-authenticate': `Bearer error="insufficient_scope", scope="${needed}", ${metadata}`,
            },
          });
        if (text !== undefined) up.mcpBodies.push(JSON.parse(text));
        return mcp(
          new Request(request.url, { method: request.method, headers: request.headers, body: text }),
        );
      }
      case '/revoke': {
        const token = new URLSearchParams(await request.text()).get('token') ?? '';
        up.revoked.push(token);
        up.issued.delete(token);
        refreshTokens.delete(token);
        return new Response(null, { status: 200 });
      }
      default:
        return new Response(null, { status: 404 });
    }
  });
  return Object.assign(up, server, {
    resource: `${server.url}/mcp`,
    clients: new Map(),
    codes: [],
    tokenRequests: [],
    mcpBodies: [],
    authorizeQueries: [],
    tokenScopes: new Map<string, string>(),
    hits: [],
    issuer: server.url,
    resourceMetadataAt: ['path'],
    serverMetadataAt: ['oauth'],
    expiresIn: 3600,
    issued: new Set<string>(),
    revoked: [],
    trusts: [],
  });
}
