import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { generateRandomCodeVerifier } from 'oauth4webapi';
import { html, type SafeHtml } from '@mcp-gateway/oauth-dynamicclient';
import { mayUse } from '../config/subjects.js';
import type { Logger } from '../ops/logger.js';
import { describeOAuthError, UpstreamIssuerMismatch } from './oauth-client.js';
import { CONNECT_TTL_S, type UpstreamServiceSettings, type UpstreamSignIn } from './sign-in.js';

/** What the account page knows of the signed-in user and how it renders and sets cookies. */
export interface AccountContext {
  sub: string;
  csrf: string;
  /** The gateway's path prefix (`''` at the root). */
  base: string;
  page(title: string, body: SafeHtml, status?: number): Response;
  cookie(name: string, value: string, maxAge: number): string;
  secure: boolean;
}

/** A service with upstream sign-in, as the pages list it. */
export interface UpstreamService {
  name: string;
  settings: UpstreamServiceSettings;
  /** The service's `users` list (absent: everyone may use it). */
  users?: readonly string[];
}

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/**
 * The account page's upstream part: the services whose upstream asks for the
 * user's own account, each connected or not, with Connect / Disconnect.
 * Connecting sends the browser to the upstream's authorization server (PKCE;
 * state, verifier, service, a hash of the user's id and the issuer of that
 * authorization server travel sealed in an HttpOnly cookie, not the store) and
 * back to the service's own
 * `/account/upstream/callback/<service>`, which stores the user's tokens
 * sealed: only for the service the flow was started for (an answer arriving
 * at another service's callback is an authorization server mix-up and is
 * never redeemed), only for the user who started it and only at the
 * authorization server it was started with. Disconnecting
 * revokes them at the upstream (RFC 7009, when offered) and forgets them.
 * Every handler runs for a signed-in user only (the account page checks the
 * session first).
 */
export class UpstreamPages {
  constructor(
    private readonly signIn: UpstreamSignIn,
    private readonly services: () => UpstreamService[],
    private readonly log: Logger,
  ) {}

  /**
   * The service `name`, if `sub` may use it (connect, callback); with `anyUser`, whoever may
   * (disconnect: a user taken off a service's `users` can still withdraw what they connected).
   */
  private find(name: string | null, sub: string, anyUser = false): UpstreamService | undefined {
    const s = name === null ? undefined : this.services().find((x) => x.name === name);
    return s && (anyUser || mayUse(s.users, sub)) ? s : undefined;
  }

  /** The cookie carrying one connect step, sealed (read back by the callback). */
  cookieName(ctx: Pick<AccountContext, 'secure'>): string {
    return ctx.secure ? '__Host-mcp-upstream' : 'mcp-upstream';
  }

  /**
   * The "Services you connected" section of the account page: the services the user may use,
   * and any other they connected before (to disconnect); a service restricted to other users
   * is not named. A service not connected whose upstream asked the user for more access before
   * offers Reset too (Disconnect without tokens: it forgets those scopes).
   */
  async section(ctx: AccountContext): Promise<SafeHtml> {
    const listed = await Promise.all(
      this.services().map(async (s) => ({
        s,
        tokens: await this.signIn.vault.get(s.name, ctx.sub),
        scoped: (await this.signIn.challenged.get(s.name, ctx.sub)) !== undefined,
      })),
    );
    const shown = listed.filter(({ s, tokens }) => tokens || mayUse(s.users, ctx.sub));
    if (!shown.length) return html``;
    const rows = shown.map(({ s, tokens, scoped }) => {
      const form = (button: SafeHtml) =>
        html`<form method="post" action="${ctx.base}/account/upstream/disconnect">
          <input type="hidden" name="service" value="${s.name}" /><input
            type="hidden"
            name="csrf"
            value="${ctx.csrf}"
          />${button}
        </form>`;
      const action = tokens
        ? form(html`<button class="disconnect">Disconnect</button>`)
        : html`<a class="connect" href="${this.signIn.connectUrl(s.name)}">Connect</a> ${
              scoped
                ? form(
                    html`<button class="reset" title="Forget the extra access this service asked you for">
                      Reset
                    </button>`,
                  )
                : html``
            }`;
      return html`<li class="app upstream" data-service="${s.name}">
        <h2>${s.name}</h2>
        <p class="muted">
          ${
            tokens
              ? html`<span class="connected">Connected</span> since ${when(tokens.connectedAt)}`
              : html`<span class="not-connected">Not connected</span>`
          }
          · <code>${new URL(s.settings.url).host}</code>
        </p>
        ${action}
      </li>`;
    });
    return html`<h2 id="upstream-heading">Services that use your own account</h2>
      <ul class="apps" id="upstream">
        ${rows}
      </ul>`;
  }

  /**
   * `GET /account/upstream/connect?service=…`: off to the upstream's authorization server, asking
   * for the service's scopes plus what the user was granted there and challenged for since
   * (step-up; that scope is kept in the store for the callback, not in the cookie). An
   * authorization endpoint the browser may not go to (`javascript:`, `file:`, …) is never
   * redirected to: the "Cannot connect" page, as for any sign-in that is not available.
   */
  async connect(request: Request, ctx: AccountContext): Promise<Response> {
    const service = this.find(new URL(request.url).searchParams.get('service'), ctx.sub);
    if (!service) return ctx.page('Not found', html`<p>No such service. <a href="./">Back</a></p>`, 404);
    const state = randomBytes(24).toString('base64url');
    const verifier = generateRandomCodeVerifier();
    let location: { url: URL; issuer: string; scope: string | undefined };
    try {
      location = await this.signIn
        .clientFor(service.name, service.settings)
        .authorizationUrl(state, verifier, await this.signIn.scopesFor(service.name, ctx.sub));
    } catch (err) {
      // An authorization server the configured client does not belong to is the operator's to fix.
      this.log[err instanceof UpstreamIssuerMismatch ? 'error' : 'warn']('upstream sign-in unavailable', {
        service: service.name,
        err: describeOAuthError(err),
      });
      return ctx.page(
        'Cannot connect',
        html`<p>
          The sign-in of <strong>${service.name}</strong> is not reachable right now. Try again later.
        </p>`,
        502,
      );
    }
    await this.signIn.rememberAsked(service.name, ctx.sub, state, location.scope);
    const value = await this.signIn.sealConnect({
      state,
      verifier,
      service: service.name,
      user: subjectTag(ctx.sub),
      issuer: location.issuer,
    });
    return new Response(null, {
      status: 303,
      headers: {
        location: location.url.href,
        'set-cookie': ctx.cookie(this.cookieName(ctx), value, CONNECT_TTL_S),
        'cache-control': 'no-store',
      },
    });
  }

  /**
   * `GET /account/upstream/callback/<service>`: the upstream's answer; the tokens are stored for the
   * signed-in user. `pathService` is the service the callback path names (`undefined`: the path
   * names none). Refused, with nothing redeemed, when the browser holds no matching connect step,
   * when the step was started for another service (mix-up) or by another user, or when the
   * upstream names another authorization server than the one the step was started with. A
   * sign-in the authorization server refused, or granted less than asked, makes the challenged
   * scopes it did not get be asked for no more ({@link UpstreamSignIn.signInEnded}).
   */
  async callback(
    request: Request,
    ctx: AccountContext,
    cookieValue: string | undefined,
    pathService: string | undefined,
  ): Promise<Response> {
    const url = new URL(request.url);
    const step = await this.signIn.openConnect(cookieValue);
    const state = url.searchParams.get('state') ?? '';
    const same = step !== undefined && state.length > 0 && sameText(state, step.state);
    const started = step?.service ?? '';
    const clear = ctx.cookie(this.cookieName(ctx), '', 0);
    const failed = (title: string, body: SafeHtml, status: number) =>
      withCookie(ctx.page(title, body, status), clear);
    if (!same || step === undefined || pathService === undefined)
      return failed(
        'Connection failed',
        html`<p>
          The link expired or was opened in another browser. <a href="./">Back to your account</a>.
        </p>`,
        400,
      );
    if (!sameText(step.user, subjectTag(ctx.sub))) {
      this.log.warn('upstream sign-in refused: started by another user', { service: started, user: ctx.sub });
      return failed(
        'Connection not completed',
        html`<p id="other-user">
            This connection was started by another account signed in at this browser, so it was not completed
            for you and nothing was stored.
          </p>
          <p>To connect your own account, start again from <a href="./">your account page</a>.</p>`,
        403,
      );
    }
    if (started !== pathService) {
      // The upstream being connected sent the browser to another service's callback: a mix-up attempt.
      this.log.warn('upstream sign-in refused: answer for another service', {
        service: started,
        callback: pathService,
        user: ctx.sub,
      });
      return failed(
        'Connection failed',
        html`<p id="mix-up">
          The answer came back for another service than the one you were connecting, so it was refused and
          nothing was stored. <a href="./">Back to your account</a>.
        </p>`,
        400,
      );
    }
    const service = this.find(started, ctx.sub);
    if (!service) return failed('Not found', html`<p>No such service. <a href="./">Back</a></p>`, 404);
    // Only the user's latest Connect at the service is completed (one pending sign-in each).
    const pending = await this.signIn.takeAsked(service.name, ctx.sub, state);
    if (!pending)
      return failed(
        'Connection failed',
        html`<p id="replaced">
          This connection expired or was replaced by a newer one. <a href="./">Back to your account</a>.
        </p>`,
        400,
      );
    const asked = pending.scope;
    let granted: string | undefined;
    try {
      const tokens = await this.signIn
        .clientFor(service.name, service.settings)
        .exchange(url, state, step.verifier, step.issuer, asked);
      await this.signIn.vault.put(service.name, ctx.sub, tokens);
      granted = tokens.scope;
    } catch (err) {
      await this.signIn.signInEnded(service.name, ctx.sub, asked, { refusal: err });
      if (err instanceof UpstreamIssuerMismatch) {
        this.log.warn('upstream sign-in refused: the authorization server changed', {
          service: service.name,
          user: ctx.sub,
          err: err.message,
        });
        return failed(
          'Connection failed',
          html`<p id="as-changed">
            <strong>${service.name}</strong> now signs users in elsewhere than where this connection was
            started, so it was not completed and nothing was stored.
            <a href="./">Start again from your account page</a>.
          </p>`,
          400,
        );
      }
      this.log.info('upstream sign-in failed', {
        service: service.name,
        user: ctx.sub,
        err: describeOAuthError(err),
      });
      return failed(
        'Connection failed',
        html`<p>
          <strong>${service.name}</strong> did not grant access. <a href="./">Back to your account</a>.
        </p>`,
        400,
      );
    }
    await this.signIn.signInEnded(service.name, ctx.sub, asked, { granted });
    this.log.info('upstream account connected', { service: service.name, user: ctx.sub });
    return new Response(null, {
      status: 303,
      headers: { location: `${ctx.base}/account`, 'set-cookie': clear, 'cache-control': 'no-store' },
    });
  }

  /**
   * `POST /account/upstream/disconnect` (CSRF checked by the caller): revoke upstream, forget here,
   * with the scopes the upstream asked the user for (also the page's Reset, without tokens).
   */
  async disconnect(form: URLSearchParams, ctx: AccountContext): Promise<Response> {
    const service = this.find(form.get('service'), ctx.sub, true);
    if (!service) return ctx.page('Not found', html`<p>No such service. <a href="./">Back</a></p>`, 404);
    const tokens = await this.signIn.vault.get(service.name, ctx.sub);
    if (tokens) {
      await this.signIn
        .clientFor(service.name, service.settings)
        .revoke(tokens)
        .catch((err: unknown) =>
          this.log.warn('upstream revocation failed', { service: service.name, err: (err as Error).message }),
        );
      await this.signIn.vault.delete(service.name, ctx.sub);
      this.log.info('upstream account disconnected', { service: service.name, user: ctx.sub });
    }
    await this.signIn.challenged.forget(service.name, ctx.sub);
    return new Response(null, {
      status: 303,
      headers: { location: `${ctx.base}/account`, 'cache-control': 'no-store' },
    });
  }
}

/**
 * What the connect cookie says of the user who started the step: a hash of their id (the cookie
 * never carries the id itself), compared when the upstream's answer comes back.
 */
function subjectTag(sub: string): string {
  return createHash('sha256').update(`mcp-gateway upstream connect\0${sub}`).digest('base64url');
}

/** Constant-time equality of two strings (false when their lengths differ). */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function withCookie(response: Response, cookie: string): Response {
  response.headers.append('set-cookie', cookie);
  return response;
}
