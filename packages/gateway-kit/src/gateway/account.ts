import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  html,
  htmlPage,
  stripInvisible,
  type Client,
  type Grant,
  type SafeHtml,
} from '@mcp-gateway/oauth-dynamicclient';
import { serviceNameSchema, type GatewayConfig } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';
import { ACCOUNT_CLIENT_ID, type Authorization } from './authorization.js';
import type { AccountContext, UpstreamPages } from '../upstream/pages.js';
import { UPSTREAM_CALLBACK_PATH } from '../upstream/sign-in.js';
import { isCrossSitePost, sameToken } from '@mcp-gateway/internal/same-origin';
import { accountResource } from './resources.js';
import { BodyTooLarge, readText } from './request-body.js';

/** Largest form the account page reads. */
const MAX_FORM_BYTES = 4096;

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

/** CSS of the account page, on top of the authorization server's styles. */
const ACCOUNT_CSS =
  '.apps{list-style:none;padding:0}.app{border:1px solid #e1e4ea;border-radius:8px;padding:.75rem 1rem;margin:.75rem 0}' +
  '.app h2{font-size:1.05rem;margin:0}.app dl{margin:.5rem 0;font-size:.9rem}.app dt{color:#5b6475;float:left;clear:left;width:6.5rem}' +
  '.app dd{margin:0 0 .25rem 6.5rem}.app form{margin:.5rem 0 0}button.danger{background:#a4000f;color:#fff;border-color:#a4000f}' +
  '.actions a{align-self:center}small code{word-break:normal}';

/** Renders a page in the authorization server's look (same shell, styles, CSP and no-cache headers). */
function page(title: string, body: SafeHtml, status = 200): Response {
  return htmlPage(
    title,
    html`<h1>${title}</h1>
      ${body}`,
    {
      productName: 'mcp-gateway',
      css: ACCOUNT_CSS,
      status,
    },
  );
}

/** Where an app receives its codes, as a user recognises it: the host, or the scheme of a native app. */
function redirectHost(uri: string): string {
  try {
    const u = new URL(uri);
    return u.host ? u.host : `${u.protocol} (app on this device)`;
  } catch {
    return uri.slice(0, 100);
  }
}

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** A grant shown on the page, with its client (absent once the client is gone). */
interface App {
  grant: Grant;
  client: Client | undefined;
}

/**
 * The "connected apps" page: a signed-in user sees the apps holding their
 * grants (name, redirect host, when consent was given, scopes) and revokes
 * them after a confirmation step (consent withdrawn, every token of the grant
 * revoked). The gateway's own account client is never listed: it is a
 * first-party static client (`skipConsent`), so signing in shows no consent
 * page. Pages use the authorization server's look (`htmlPage`). The page signs users in as an ordinary OAuth client of the
 * gateway's own authorization server (static public client, PKCE), and keeps
 * the resulting access token in an HttpOnly cookie scoped to `/account`.
 * The page shows the user's id (what `admins` and `users` lists name);
 * signing out revokes the token.
 * Until a user signs in, nothing is written to the store.
 */
export function accountPages(deps: {
  config: GatewayConfig;
  authorization: Authorization;
  logger: Logger;
  /** Upstream sign-in: services that use the user's own upstream account, listed and connected here. */
  upstream?: UpstreamPages;
}) {
  const { config, authorization, upstream } = deps;
  const issuer = config.issuer.replace(/\/+$/, '');
  const base = new URL(issuer).pathname.replace(/\/+$/, '');
  const secure = issuer.startsWith('https:');
  const origin = new URL(issuer).origin;
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
        html`<p>The sign-in link expired or was opened in another browser. <a href="./">Try again</a>.</p>`,
        400,
      );
    if (url.searchParams.get('error')) {
      return page(
        'Sign-in cancelled',
        html`<p>${(url.searchParams.get('error') ?? '').slice(0, 100)}</p>
          <p><a href="./">Try again</a></p>`,
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
      return page('Sign-in failed', html`<p>The authorization server refused the sign-in.</p>`, 400);
    const headers = new Headers({ location: `${base}/account`, 'cache-control': 'no-store' });
    headers.append('set-cookie', cookie(SESSION, tokens.access_token, tokens.expires_in ?? 3600));
    headers.append('set-cookie', cookie(LOGIN, '', 0));
    return new Response(null, { status: 303, headers });
  }

  /**
   * The gateway's own sign-in grant (its account client's) is not an app the user connected: never
   * listed, never revocable here. Decided by the client alone: any other client holding account
   * access (an app that asked for the account resource, `mcp-gateway token --service account`) can
   * manage the user's grants, so it is listed and revocable like any app.
   */
  const ownGrant = (g: Grant) => g.clientId === ACCOUNT_CLIENT_ID;

  /** The user's grants worth showing, each with its client (if still registered). */
  async function apps(sub: string) {
    const grants = (await authorization.server.grants.list(sub)).filter((g) => !ownGrant(g));
    return Promise.all(
      grants.map(async (g) => ({
        grant: g,
        client: await authorization.server.clients.get(g.clientId).catch(() => undefined),
      })),
    );
  }

  const appName = (app: App) =>
    stripInvisible(app.client?.metadata.client_name ?? '').trim() || 'Unnamed app';

  /** What a user needs to recognise an app: its name, where it receives codes, when and what they allowed. */
  function appDetails(app: App): SafeHtml {
    const hosts = [...new Set((app.client?.metadata.redirect_uris ?? []).map(redirectHost))];
    return html`<h2 class="app-name">${appName(app)}</h2>
      <dl>
        <dt>Redirects to</dt>
        <dd class="redirect-host">${hosts.join(', ') || 'no longer registered'}</dd>
        <dt>Allowed on</dt>
        <dd>
          <time class="consented" datetime="${new Date(app.grant.createdAt).toISOString()}"
            >${when(app.grant.createdAt)}</time
          >
        </dd>
        <dt>Scopes</dt>
        <dd class="scopes">${app.grant.scopes.join(' ') || '(none)'}</dd>
        <dt>Services</dt>
        <dd class="muted">${app.grant.resources.join(' ')}</dd>
      </dl>
      <small class="muted">Client id <code class="client-id">${app.grant.clientId}</code></small>`;
  }

  const revokeForm = (app: App, csrf: string, confirm: boolean) =>
    html`<form method="post" action="${base}/account/revoke">
      <input type="hidden" name="grant" value="${app.grant.id}" /><input
        type="hidden"
        name="csrf"
        value="${csrf}"
      />${confirm ? html`<input type="hidden" name="confirm" value="yes" />` : ''}
      <button class="${confirm ? 'danger revoke-confirm' : 'revoke'}">
        ${confirm ? 'Yes, revoke access' : 'Revoke…'}
      </button>
    </form>`;

  /** What the upstream pages need of the signed-in user's session. */
  const contextOf = (s: { token: string; id: { sub: string } }): AccountContext => ({
    sub: s.id.sub,
    csrf: csrfOf(s.token),
    base,
    page,
    cookie,
    secure,
  });

  async function list(request: Request): Promise<Response> {
    const s = await session(request);
    if (!s) return startLogin();
    const csrf = csrfOf(s.token);
    const upstreamSection = upstream ? await upstream.section(contextOf(s)) : html``;
    const connected = await apps(s.id.sub);
    const items = connected.length
      ? html`<ul class="apps" id="apps">
          ${connected.map(
            (app) =>
              html`<li class="app" data-client-id="${app.grant.clientId}">
                ${appDetails(app)}${revokeForm(app, csrf, false)}
              </li>`,
          )}
        </ul>`
      : html`<p id="no-apps">No app holds access to your account.</p>`;
    return page(
      'Connected apps',
      html`<p>Signed in as <strong>${s.id.name ?? s.id.sub}</strong>.</p>
        <p>
          Your user id: <code id="user-id">${s.id.sub}</code><br /><small class="muted"
            >Operators name you by this id in the gateway config (<code>admins</code>, a service's
            <code>users</code>).</small
          >
        </p>
        ${items} ${upstreamSection}
        <form method="post" action="${base}/account/logout">
          <input type="hidden" name="csrf" value="${csrf}" /><button id="sign-out">Sign out</button>
        </form>`,
    );
  }

  /**
   * A same-site form post's fields, read only up to {@link MAX_FORM_BYTES} (a larger or
   * cross-site post, or another content type, gives `undefined` and its body is not read).
   */
  async function form(request: Request): Promise<URLSearchParams | undefined> {
    if (!(request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded'))
      return undefined;
    if (isCrossSitePost(request, origin)) return undefined;
    try {
      return new URLSearchParams(await readText(request, MAX_FORM_BYTES));
    } catch (err) {
      if (err instanceof BodyTooLarge) return undefined;
      throw err;
    }
  }

  /** The posted form of a signed-in session when its CSRF token matches, else `undefined`. */
  async function sessionForm(request: Request, csrf: string): Promise<URLSearchParams | undefined> {
    const f = await form(request);
    return f && sameToken(f.get('csrf') ?? undefined, csrf) ? f : undefined;
  }

  /**
   * `POST /account/revoke`: without `confirm=yes` it only shows what revoking
   * means and asks to confirm (a second form, no script); with it, the grant
   * is withdrawn and every token under it revoked. Both steps need the CSRF
   * token of the session, and only the user's own, listed grants qualify.
   */
  async function revoke(request: Request, log: Logger): Promise<Response> {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const s = await session(request);
    const f = s && (await sessionForm(request, csrfOf(s.token)));
    if (!s || !f)
      return page('Not allowed', html`<p>Your session expired. <a href="./">Sign in again</a>.</p>`, 403);
    const id = f.get('grant') ?? '';
    const app = (await apps(s.id.sub)).find((a) => a.grant.id === id);
    if (!app) return page('Not found', html`<p>No such connected app. <a href="./">Back</a></p>`, 404);
    if (f.get('confirm') !== 'yes') {
      return page(
        'Revoke access?',
        html`<p id="confirm-question">
            <strong>${appName(app)}</strong> will lose access to your account: its tokens stop working at
            once, and it has to ask for your consent again to get back in.
          </p>
          <div class="app">${appDetails(app)}</div>
          <div class="actions">
            ${revokeForm(app, csrfOf(s.token), true)}<a id="cancel" href="${base}/account">Cancel</a>
          </div>`,
      );
    }
    await authorization.server.grants.revoke(id);
    log.info('grant revoked from the account page', { user: s.id.sub, grant: id });
    return new Response(null, {
      status: 303,
      headers: { location: `${base}/account`, 'cache-control': 'no-store' },
    });
  }

  async function logout(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const s = await session(request);
    if (s && !(await sessionForm(request, csrfOf(s.token))))
      return page('Not allowed', html`<p>Bad request.</p>`, 403);
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

  /** `/account/upstream/…`: only for a signed-in user; a POST needs the session's CSRF token. */
  async function upstreamRoute(
    request: Request,
    serve: (ctx: AccountContext, f: URLSearchParams | undefined) => Promise<Response>,
  ): Promise<Response> {
    const s = await session(request);
    if (!s) return startLogin();
    const ctx = contextOf(s);
    if (request.method === 'GET') return serve(ctx, undefined);
    if (request.method !== 'POST')
      return new Response(null, { status: 405, headers: { allow: 'GET, POST' } });
    const f = await sessionForm(request, ctx.csrf);
    if (!f)
      return page('Not allowed', html`<p>Your session expired. <a href="./">Sign in again</a>.</p>`, 403);
    return serve(ctx, f);
  }

  /** `GET /account/upstream/callback/<service>`: the service is the path's last segment. */
  const upstreamCallback = (request: Request) => {
    const rest = new URL(request.url).pathname.slice(`${base}${UPSTREAM_CALLBACK_PATH}/`.length);
    const service = serviceNameSchema.safeParse(rest).success ? rest : undefined;
    return upstreamRoute(request, (ctx) =>
      upstream!.callback(request, ctx, cookies(request).get(upstream!.cookieName(ctx)), service),
    );
  };

  const upstreamRoutes: Record<string, (request: Request) => Promise<Response>> = upstream
    ? {
        '/account/upstream/connect': (request: Request) =>
          upstreamRoute(request, (ctx) => upstream.connect(request, ctx)),
        // Each service's own callback (`…/callback/<service>`); the shared path of earlier versions only says to start again.
        [`${UPSTREAM_CALLBACK_PATH}/*`]: (request: Request) => upstreamCallback(request),
        [UPSTREAM_CALLBACK_PATH]: (request: Request) => upstreamCallback(request),
        '/account/upstream/disconnect': (request: Request) =>
          upstreamRoute(request, (ctx, f) =>
            f ? upstream.disconnect(f, ctx) : Promise.resolve(new Response(null, { status: 405 })),
          ),
      }
    : {};

  return {
    ...upstreamRoutes,
    '/account': (request: Request) => list(request),
    '/account/callback': (request: Request) => callback(request),
    '/account/revoke': (request: Request, log: Logger) => revoke(request, log),
    '/account/logout': (request: Request) => logout(request),
  };
}
