/**
 * A small, real MCP resource + two authorization servers (issuers with a
 * path: `{base}/as-a`, `{base}/as-b`) on one loopback port, for the client
 * rules of the MCP 2026-07-28 authorization revision: `iss` in the
 * authorization response (RFC 9207), `application_type` at registration,
 * issuer binding and AS migration, `offline_access`. Every knob is a plain
 * mutable field, so a test can change the server between two client runs.
 */
import { listen, type Listening } from '@mcp-gateway/testkit';

/** How an AS treats RFC 9207 `iss`: advertised in metadata, and what the callback carries. */
export interface IssBehaviour {
  /** `authorization_response_iss_parameter_supported` in the metadata. */
  advertised: boolean;
  /** What the redirect to the client carries: `issuer` (the issuer), `none`, or this value. */
  sent: string;
}

export interface StubAs {
  issuer: string;
  iss: IssBehaviour;
  scopesSupported?: string[];
  /** Refuse a loopback `http:` redirect URI unless `application_type` is `native`, as OIDC registration does for `web`. */
  oidcRedirectRules: boolean;
  registrations: Array<Record<string, unknown>>;
  /**
   * When the token endpoint issues a refresh token: `always` (default), `offline-access` (only
   * for a grant whose scope has `offline_access`), `first-grant` (only at a client's first
   * authorization-code grant, as some providers do), `never`.
   */
  refreshTokens: 'always' | 'offline-access' | 'first-grant' | 'never';
  /** Whether a refresh grant answers with a new refresh token (default); false: none (RFC 6749 §6). */
  rotateRefresh: boolean;
  /** `expires_in` of access tokens (default 3600). */
  expiresIn: number;
  authorizeRequests: URLSearchParams[];
  tokenRequests: URLSearchParams[];
  issued: Set<string>;
}

export interface Auth2026Server extends Listening {
  mcpUrl: string;
  as: { a: StubAs; b: StubAs };
  /** Which AS the protected-resource metadata names now. */
  current: 'a' | 'b';
  /** `scopes_supported` of the protected-resource metadata. */
  resourceScopes?: string[];
  /** A scope every MCP request needs: without it, 403 `insufficient_scope` naming it (step-up). */
  requiredScope?: string;
  /** Answer 403 `insufficient_scope` whatever the token holds (a server that never accepts a step-up). */
  neverEnoughScope?: boolean;
  /** Answer 401 with a plain `Bearer error="invalid_token"` (no `resource_metadata`). */
  plainChallenge?: boolean;
  /** The `scope` of the 401 challenge. */
  challengeScope?: string;
  /**
   * The result an authorized MCP request gets (default `{}`), given its `params`; may change
   * the knobs above for the next request.
   */
  result?: (params: Record<string, unknown>) => Record<string, unknown>;
  /** Every request as `METHOD path`, in order. */
  hits: string[];
  /** Bearer tokens the MCP endpoint saw. */
  bearers: string[];
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function newAs(issuer: string): StubAs {
  return {
    issuer,
    iss: { advertised: true, sent: 'issuer' },
    oidcRedirectRules: false,
    registrations: [],
    refreshTokens: 'always',
    rotateRefresh: true,
    expiresIn: 3600,
    authorizeRequests: [],
    tokenRequests: [],
    issued: new Set(),
  };
}

export async function startAuth2026Server(): Promise<Auth2026Server> {
  const box = { base: '' };
  let n = 0;
  const codes = new Map<string, { scope: string }>();
  const tokenScopes = new Map<string, string>();
  const grants = new Map<string, Set<string>>();
  const state: Omit<Auth2026Server, keyof Listening | 'mcpUrl'> = {
    as: { a: newAs(''), b: newAs('') },
    current: 'a',
    hits: [],
    bearers: [],
  };

  const asMetadata = (as: StubAs, id: 'a' | 'b') => ({
    issuer: as.issuer,
    authorization_endpoint: `${box.base}/as-${id}/authorize`,
    token_endpoint: `${box.base}/as-${id}/token`,
    registration_endpoint: `${box.base}/as-${id}/register`,
    code_challenge_methods_supported: ['S256'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['none'],
    ...(as.iss.advertised ? { authorization_response_iss_parameter_supported: true } : {}),
    ...(as.scopesSupported ? { scopes_supported: as.scopesSupported } : {}),
  });

  async function asRoute(req: Request, id: 'a' | 'b', rest: string): Promise<Response> {
    const as = state.as[id];
    if (rest === '/register' && req.method === 'POST') {
      const body = (await req.json()) as Record<string, unknown>;
      as.registrations.push(body);
      const uris = (body.redirect_uris as string[] | undefined) ?? [];
      if (
        as.oidcRedirectRules &&
        body.application_type !== 'native' &&
        uris.some((u) => u.startsWith('http:'))
      ) {
        return json(
          {
            error: 'invalid_redirect_uri',
            error_description: 'application_type web (the default) needs https redirect URIs',
          },
          400,
        );
      }
      return json({ ...body, client_id: `client-${id}-${++n}`, client_id_issued_at: 1 }, 201);
    }
    if (rest === '/authorize' && req.method === 'GET') {
      const q = new URL(req.url).searchParams;
      as.authorizeRequests.push(q);
      const code = `code-${id}-${++n}`;
      codes.set(code, { scope: q.get('scope') ?? '' });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state')!);
      if (as.iss.sent === 'issuer') back.searchParams.set('iss', as.issuer);
      else if (as.iss.sent !== 'none') back.searchParams.set('iss', as.iss.sent);
      return new Response(null, { status: 302, headers: { location: back.href } });
    }
    if (rest === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await req.text());
      as.tokenRequests.push(form);
      const grant = form.get('grant_type');
      const clientId = form.get('client_id') ?? '';
      // What the user granted this client so far: a refresh token gives a token for all of it.
      const granted = grants.get(clientId) ?? new Set<string>();
      let issueRefresh = as.refreshTokens === 'always';
      if (grant === 'authorization_code') {
        const c = codes.get(form.get('code') ?? '');
        if (!c) return json({ error: 'invalid_grant' }, 400);
        codes.delete(form.get('code')!);
        const asked = c.scope.split(' ').filter(Boolean);
        if (as.refreshTokens === 'offline-access') issueRefresh = asked.includes('offline_access');
        if (as.refreshTokens === 'first-grant') issueRefresh = !grants.has(clientId);
        for (const sc of asked) granted.add(sc);
        grants.set(clientId, granted);
      } else if (grant !== 'refresh_token' || !as.issued.has(form.get('refresh_token') ?? '')) {
        return json({ error: 'invalid_grant' }, 400);
      } else {
        issueRefresh = as.rotateRefresh;
      }
      // `offline_access` asks for a refresh token; it is no scope of the access token.
      const scope = [...granted].filter((sc) => sc !== 'offline_access').join(' ');
      const access = `at-${id}-${++n}`;
      const refresh = `rt-${id}-${n}`;
      as.issued.add(access);
      if (issueRefresh) as.issued.add(refresh);
      tokenScopes.set(access, scope);
      return json({
        access_token: access,
        token_type: 'Bearer',
        expires_in: as.expiresIn,
        ...(issueRefresh ? { refresh_token: refresh } : {}),
        ...(scope ? { scope } : {}),
      });
    }
    return new Response('not found', { status: 404 });
  }

  const l = await listen(async (req) => {
    const path = new URL(req.url).pathname;
    state.hits.push(`${req.method} ${path}`);
    const wk = /^\/\.well-known\/oauth-authorization-server\/as-(a|b)$/.exec(path);
    if (wk && req.method === 'GET') {
      const id = wk[1] as 'a' | 'b';
      return json(asMetadata(state.as[id], id));
    }
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      return json({
        resource: `${box.base}/mcp`,
        authorization_servers: [state.as[state.current].issuer],
        ...(state.resourceScopes ? { scopes_supported: state.resourceScopes } : {}),
      });
    }
    const asPath = /^\/as-(a|b)(\/.*)$/.exec(path);
    if (asPath) return asRoute(req, asPath[1] as 'a' | 'b', asPath[2]!);
    if (path === '/mcp' && req.method === 'POST') {
      const bearer = /^Bearer (.+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
      if (bearer) state.bearers.push(bearer);
      const body = (await req.json()) as { id?: unknown; params?: Record<string, unknown> };
      if (!bearer || !state.as[state.current].issued.has(bearer)) {
        return json({ error: 'invalid_token' }, 401, {
          'www-authenticate': state.plainChallenge
            ? 'Bearer error="invalid_token"'
            : `Bearer resource_metadata="${box.base}/.well-known/oauth-protected-resource/mcp"${
                state.challengeScope ? `, scope="${state.challengeScope}"` : ''
              }`,
        });
      }
      const held = (tokenScopes.get(bearer) ?? '').split(' ');
      const need = state.requiredScope;
      if (need && (state.neverEnoughScope || !held.includes(need))) {
        return json({ error: 'insufficient_scope' }, 403, {
          'www-authenticate': `Bearer error="insufficient_scope", scope="${need}", resource_metadata="${box.base}/.well-known/oauth-protected-resource/mcp"`,
        });
      }
      return json({ jsonrpc: '2.0', id: body.id ?? null, result: state.result?.(body.params ?? {}) ?? {} });
    }
    return new Response('not found', { status: 404 });
  });
  box.base = l.url.replace(/\/$/, '');
  state.as.a.issuer = `${box.base}/as-a`;
  state.as.b.issuer = `${box.base}/as-b`;
  const out: Auth2026Server = Object.assign(state, { ...l, mcpUrl: `${box.base}/mcp` });
  return out;
}
