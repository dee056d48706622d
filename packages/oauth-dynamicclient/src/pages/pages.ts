import { html, raw, type SafeHtml } from './html.js';
import {
  document,
  pageResponse,
  type ConsentBeforeSignInPageModel,
  type ConsentPageModel,
  type ErrorPageModel,
  type LoginPageModel,
  type NoticePageModel,
  type PageModel,
  type PageOptions,
} from './layout.js';

const hidden = (fields: Record<string, string>): SafeHtml[] =>
  Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);

/** Client-supplied (or upstream-supplied) text, isolated from the surrounding text direction. */
const bdi = (text: string): SafeHtml => html`<bdi>${text}</bdi>`;

/** A URI as the URL parser writes it: characters that could reorder its text on screen percent-encoded. */
function shownUri(uri: string): string {
  try {
    return new URL(uri).href;
  } catch {
    return uri;
  }
}

function errorBody(m: ErrorPageModel): SafeHtml {
  return html`<h1>Something went wrong</h1>
    <p class="error"><code>${m.error}</code></p>
    <p>${m.description}</p>
    ${
      m.returnTo
        ? html`<p class="muted">
              The application's request could not be completed. You can close this window, or send the
              application this error:
            </p>
            <p class="redirect">
              <a id="return-to" href="${m.returnTo.href}" rel="noreferrer"
                >Return to ${bdi(m.returnTo.host)}</a
              >
            </p>`
        : html`<p class="muted">You can close this window and try again from the application.</p>`
    }`;
}

function noticeBody(m: NoticePageModel): SafeHtml {
  return html`<h1 id="notice-heading">${m.heading}</h1>
    <p id="notice" data-notice="${m.notice}">${m.message}</p>
    <p class="muted">You can close this window.</p>`;
}

/**
 * The warning for a CIMD or self-registered client that only redirects to this computer. MCP
 * 2026-07-28, Security Considerations, "Localhost Redirect URI Risks": "Client ID Metadata
 * Documents cannot prevent `localhost` URL impersonation by themselves"; authorization servers
 * "**SHOULD** display additional warnings for `localhost`-only redirect URIs".
 */
function localRedirectWarning(name: string): SafeHtml {
  return html`<section
    class="warning"
    id="local-redirect-warning"
    role="note"
    aria-labelledby="local-redirect-warning-title"
  >
    <h2 id="local-redirect-warning-title">Only continue if you started this sign-in</h2>
    <p>
      This application gets its answer at an address on your own computer. Any program running on your
      computer could claim to be ${bdi(name)}. Allow only if you started this sign-in from that application
      just now.
    </p>
  </section>`;
}

function consentBody(m: ConsentPageModel | ConsentBeforeSignInPageModel): SafeHtml {
  const name = m.client.name ?? m.client.id;
  const badge =
    m.client.kind === 'cimd'
      ? html`<span class="badge neutral" id="client-metadata"
          >Client metadata from
          <bdi id="client-metadata-url">${m.client.metadataUrl ?? m.client.id}</bdi></span
        >`
      : m.client.kind === 'static'
        ? html`<span class="badge verified">Pre-registered by the administrator</span>`
        : html`<span class="badge unverified">Self-registered, identity not verified</span>`;
  const links = (
    [
      ['client-uri', 'Website', m.client.uri],
      ['client-policy', 'Privacy policy', m.client.policyUri],
      ['client-tos', 'Terms of service', m.client.tosUri],
    ] as const
  ).filter((l) => l[2] !== undefined);
  return html`<h1>Authorize <span id="client-name">${bdi(name)}</span>?</h1>
    <p>${badge}</p>
    ${m.client.localRedirectsOnly ? localRedirectWarning(name) : ''}
    ${
      m.kind === 'consent'
        ? html`<p>
            <strong id="client-display">${bdi(name)}</strong> wants to access
            <strong>${bdi(m.resourceName ?? m.resource)}</strong> as
            <strong>${bdi(m.user.login)}</strong>${m.user.name ? html` (${bdi(m.user.name)})` : ''}.
          </p>`
        : html`<p>
              <strong id="client-display">${bdi(name)}</strong> wants to access
              <strong>${bdi(m.resourceName ?? m.resource)}</strong> on your behalf.
            </p>
            <p class="muted" id="sign-in-next">
              If you allow it, you will sign in with <bdi>${m.signInWith}</bdi> next. It only tells this
              server who you are: the application gets no access to your account there.
            </p>`
    }
    <p class="muted">After you ${m.kind === 'consent' ? 'approve' : 'sign in'}, you will be sent to</p>
    <p class="redirect" id="redirect-host">${bdi(m.redirectHost)}</p>
    ${m.redirectUri ? html`<p class="muted"><code id="redirect-uri">${bdi(shownUri(m.redirectUri))}</code></p>` : ''}
    ${
      links.length
        ? html`<p class="links muted">
            ${links.map(
              ([id, label, href]) =>
                html`<a id="${id}" href="${href}" rel="noopener noreferrer" target="_blank"
                  >${label}: ${bdi(href ?? '')}</a
                >`,
            )}
          </p>`
        : ''
    }
    ${
      m.scopes.length
        ? html`<p>It asks for:</p>
            <ul id="scopes">
              ${m.scopes.map((s) => html`<li><code>${s}</code></li>`)}
            </ul>`
        : ''
    }
    <p class="muted">Resource: <code>${m.resource}</code></p>
    <form method="post" action="${m.action}">
      ${hidden(m.fields)}
      <div class="actions">
        <button class="primary" type="submit" name="decision" value="approve" id="approve">Allow</button>
        <button type="submit" name="decision" value="deny" id="deny">Deny</button>
      </div>
    </form>`;
}

function loginBody(m: LoginPageModel): SafeHtml {
  return html`<h1>Sign in</h1>
    ${m.message ? html`<p class="error" id="message">${m.message}</p>` : ''}
    <form method="post" action="${m.action}">
      ${hidden(m.fields)} <label for="username">User name</label
      ><input id="username" name="username" autocomplete="username" required value="${m.username ?? ''}" />
      <label for="password">Password</label
      ><input id="password" name="password" type="password" autocomplete="current-password" required />
      <div class="actions"><button class="primary" type="submit" id="sign-in">Sign in</button></div>
    </form>`;
}

const titles: Record<PageModel['kind'], string> = {
  error: 'Error',
  consent: 'Authorize',
  'consent-before-sign-in': 'Authorize',
  login: 'Sign in',
  notice: 'Done',
};

/** Renders built-in pages, honouring the restyle hook. */
export class Pages {
  constructor(private readonly options: PageOptions = {}) {}

  private respond(model: PageModel, status: number, headers?: Record<string, string>): Response {
    const nonce = crypto.randomUUID().replace(/-/g, '');
    const custom = this.options.render?.(model);
    const body =
      custom ??
      (model.kind === 'error'
        ? errorBody(model)
        : model.kind === 'consent' || model.kind === 'consent-before-sign-in'
          ? consentBody(model)
          : model.kind === 'notice'
            ? noticeBody(model)
            : loginBody(model));
    return pageResponse(
      document(titles[model.kind], typeof body === 'string' ? raw(body) : body, nonce, this.options),
      nonce,
      status,
      headers,
    );
  }

  /**
   * The HTML error page (for errors before a redirect URI can be trusted, or,
   * with `returnTo`, errors of an authorization request the user may send back
   * to its client with a link).
   */
  error(
    error: string,
    description: string,
    status = 400,
    headers?: Record<string, string>,
    returnTo?: ErrorPageModel['returnTo'],
  ): Response {
    return this.respond(
      { kind: 'error', error, description, ...(returnTo ? { returnTo } : {}) },
      status,
      headers,
    );
  }

  consent(model: Omit<ConsentPageModel, 'kind'>, headers?: Record<string, string>): Response {
    return this.respond({ kind: 'consent', ...model }, 200, headers);
  }

  /** The consent page shown before a third-party sign-in ({@link ConsentBeforeSignInPageModel}). */
  consentBeforeSignIn(
    model: Omit<ConsentBeforeSignInPageModel, 'kind'>,
    headers?: Record<string, string>,
  ): Response {
    return this.respond({ kind: 'consent-before-sign-in', ...model }, 200, headers);
  }

  /** A message page that is not an error (e.g. "already answered"). */
  notice(model: Omit<NoticePageModel, 'kind'>, status = 200, headers?: Record<string, string>): Response {
    return this.respond({ kind: 'notice', ...model }, status, headers);
  }

  login(model: Omit<LoginPageModel, 'kind'>, status = 200, headers?: Record<string, string>): Response {
    return this.respond({ kind: 'login', ...model }, status, headers);
  }
}
