import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';
import { ACCOUNT_CLIENT_ID, type Authorization } from './authorization.js';
import { accountResource } from './resources.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const b64url = (b: Buffer) => b.toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s).digest();

function cookies(request: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function page(title: string, body: string, status = 200): Response {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.5rem;border-bottom:1px solid #ddd}button{cursor:pointer}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`,
    { status, headers: PAGE_HEADERS },
  );
}

/**
 * The "connected apps" page: a signed-in user sees the clients holding their
 * grants and revokes them (consent withdrawn, every token of the grant
 * revoked). The page signs users in as an ordinary OAuth client of the
 * gateway's own authorization server (static public client, PKCE), and keeps
 * the resulting access token in an HttpOnly cookie scoped to `/account`.
 * The page shows the user's id (what `admins` and `users` lists name);
 * signing out revokes the token.
 * Until a user signs in, nothing is written to the store.
 */
export function accountPages(deps: { config: GatewayConfig; authorization: Authorization; logger: Logger }) {
  const { config, authorization } = deps;
  const issuer = config.issuer.replace(/\/+$/, '');
  const base = new URL(issuer).pathname.replace(/\/+$/, '');
  const secure = issuer.startsWith('https:');
  const resource = accountResource(issuer);
  const redirectUri = `${issuer}/account/callback`;
  const SESSION = secure ? '__Host-mcp-account' : 'mcp-account';
  const LOGIN = secure ? '__Host-mcp-account-login' : 'mcp-account-login';
  const cookie = (name: string, value: string, maxAge: number) =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  const csrfOf = (token: string) => b64url(sha256(`csrf:${token}`)).slice(0, 32);

  async function session(request: Request) {
    const token = cookies(request).get(SESSION);
    if (!token) return undefined;
    try {
      const id = await authorization.verify(token, { resource: resource.resource, scopes: resource.scopes });
      return { token, id };
    } catch {
      return undefined;
    }
  }

  /**
   * Sends the browser to `/authorize`. The state and PKCE verifier travel in
   * the HttpOnly login cookie (`<state>.<verifier>`), not the store: an
   * anonymous visit writes nothing, however many there are.
   */
  function startLogin(): Response {
    const verifier = b64url(randomBytes(32));
    const state = b64url(randomBytes(24));
    const url = new URL(`${issuer}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: ACCOUNT_CLIENT_ID,
      redirect_uri: redirectUri,
      code_challenge: b64url(sha256(verifier)),
      code_challenge_method: 'S256',
      state,
      resource: resource.resource,
      scope: resource.scopes.join(' '),
    }).toString();
    return new Response(null, {
      status: 303,
      headers: {
        location: url.href,
        'set-cookie': cookie(LOGIN, `${state}.${verifier}`, 600),
        'cache-control': 'no-store',
      },
    });
  }

  async function callback(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const state = url.searchParams.get('state') ?? '';
    const [bound = '', verifier = ''] = (cookies(request).get(LOGIN) ?? '').split('.');
    const same =
      state.length > 0 &&
      verifier.length > 0 &&
      state.length === bound.length &&
      timingSafeEqual(Buffer.from(state), Buffer.from(bound));
    const pending = same ? { verifier } : undefined;
    if (!pending)
      return page(
        'Sign-in failed',
        '<p>The sign-in link expired or was opened in another browser. <a href="./">Try again</a>.</p>',
        400,
      );
    if (url.searchParams.get('error')) {
      return page(
        'Sign-in cancelled',
        `<p>${esc(url.searchParams.get('error') ?? '')}</p><p><a href="./">Try again</a></p>`,
        400,
      );
    }
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code: url.searchParams.get('code') ?? '',
      redirect_uri: redirectUri,
      client_id: ACCOUNT_CLIENT_ID,
      code_verifier: pending.verifier,
      resource: resource.resource,
    });
    const res = await authorization.fetch(
      new Request(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
      }),
    );
    const tokens = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!res.ok || !tokens.access_token)
      return page('Sign-in failed', '<p>The authorization server refused the sign-in.</p>', 400);
    const headers = new Headers({ location: `${base}/account`, 'cache-control': 'no-store' });
    headers.append('set-cookie', cookie(SESSION, tokens.access_token, tokens.expires_in ?? 3600));
    headers.append('set-cookie', cookie(LOGIN, '', 0));
    return new Response(null, { status: 303, headers });
  }

  async function list(request: Request): Promise<Response> {
    const s = await session(request);
    if (!s) return startLogin();
    const grants = await authorization.server.grants.list(s.id.sub);
    const rows = await Promise.all(
      grants.map(async (g) => {
        const client = await authorization.server.clients.get(g.clientId).catch(() => undefined);
        const name = client?.metadata.client_name ?? g.clientId;
        return `<tr><td>${esc(name)}<br><small>${esc(g.clientId)}</small></td><td>${esc(g.scopes.join(' '))}</td><td>${esc(g.resources.join(' '))}</td>
<td><form method="post" action="${esc(base)}/account/revoke"><input type="hidden" name="grant" value="${esc(g.id)}"><input type="hidden" name="csrf" value="${csrfOf(s.token)}"><button>Revoke</button></form></td></tr>`;
      }),
    );
    const table = rows.length
      ? `<table><thead><tr><th>App</th><th>Scopes</th><th>Service</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`
      : '<p>No app holds access to your account.</p>';
    return page(
      'Connected apps',
      `<p>Signed in as <strong>${esc(s.id.name ?? s.id.sub)}</strong>.</p>
<p>Your user id: <code id="user-id">${esc(s.id.sub)}</code><br><small>Operators name you by this id in the gateway config (<code>admins</code>, a service's <code>users</code>).</small></p>${table}
<form method="post" action="${esc(base)}/account/logout"><input type="hidden" name="csrf" value="${csrfOf(s.token)}"><button>Sign out</button></form>`,
    );
  }

  async function form(request: Request): Promise<URLSearchParams | undefined> {
    if (!(request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded'))
      return undefined;
    const text = await request.text();
    return text.length > 4096 ? undefined : new URLSearchParams(text);
  }

  async function revoke(request: Request, log: Logger): Promise<Response> {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const s = await session(request);
    const f = await form(request);
    if (!s || !f || f.get('csrf') !== csrfOf(s.token))
      return page('Not allowed', '<p>Your session expired. <a href="./">Sign in again</a>.</p>', 403);
    const id = f.get('grant') ?? '';
    const mine = (await authorization.server.grants.list(s.id.sub)).some((g) => g.id === id);
    if (!mine) return page('Not found', '<p>No such connected app.</p>', 404);
    await authorization.server.grants.revoke(id);
    log.info({ user: s.id.sub, grant: id }, 'grant revoked from the account page');
    return new Response(null, {
      status: 303,
      headers: { location: `${base}/account`, 'cache-control': 'no-store' },
    });
  }

  async function logout(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const s = await session(request);
    const f = await form(request);
    if (s && f?.get('csrf') !== csrfOf(s.token)) return page('Not allowed', '<p>Bad request.</p>', 403);
    // Signing out ends the token too, not just the cookie: a copied cookie is worthless afterwards.
    if (s) await authorization.server.tokens.revoke(s.token);
    return new Response(null, {
      status: 303,
      headers: {
        location: `${base}/account`,
        'set-cookie': cookie(SESSION, '', 0),
        'cache-control': 'no-store',
      },
    });
  }

  return {
    '/account': (request: Request) => list(request),
    '/account/callback': (request: Request) => callback(request),
    '/account/revoke': (request: Request, log: Logger) => revoke(request, log),
    '/account/logout': (request: Request) => logout(request),
  };
}
