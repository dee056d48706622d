import { bodyResponse } from '../http/known-body.js';
import { html, raw, type SafeHtml } from './html.js';

/** What each built-in page shows. Custom renderers receive the same model. */
export type PageModel =
  ErrorPageModel | ConsentPageModel | ConsentBeforeSignInPageModel | LoginPageModel | NoticePageModel;

export interface ErrorPageModel {
  kind: 'error';
  /** OAuth error code, e.g. `invalid_request`. */
  error: string;
  description: string;
  /**
   * Set when the error belongs to a client that may learn it: its redirect URI
   * carrying `error`, `error_description`, `state` and `iss` (`href`) and how
   * that URI is shown (`host`). The page offers it as a link the user may
   * follow; it is never followed automatically.
   */
  returnTo?: { href: string; host: string };
}

export interface ConsentPageModel {
  kind: 'consent';
  client: {
    id: string;
    name: string | undefined;
    /** `cimd`: identified by the URL of its metadata document; `dynamic`: self-registered; `static`: configured. */
    kind: 'cimd' | 'dynamic' | 'static';
    /**
     * A CIMD client's full `client_id`: the URL its metadata was fetched from.
     * Show all of it: the host alone says little on shared hosts
     * (`raw.githubusercontent.com`, `gist.github.com`, …), where anyone can
     * publish a document under any `client_name`.
     */
    metadataUrl?: string;
    /** @deprecated The host of {@link metadataUrl}; on its own it does not identify who published the document. */
    verifiedDomain?: string;
    /** `client_uri`, `policy_uri`, `tos_uri` from the client's metadata. */
    uri?: string;
    policyUri?: string;
    tosUri?: string;
    /**
     * Set for a CIMD or dynamically registered client whose redirect URIs all point at the user's
     * computer (`localhost`, 127.0.0.0/8, `[::1]`): any local program could claim to be this
     * client, so the page warns about it (MCP 2026-07-28, Localhost Redirect URI Risks).
     */
    localRedirectsOnly?: boolean;
  };
  /** Host (or scheme for private-use URIs) the browser will be sent to with the answer. */
  redirectHost: string;
  /** The whole redirect URI the answer (the authorization code) will be sent to. */
  redirectUri?: string;
  scopes: string[];
  resource: string;
  resourceName?: string;
  user: { login: string; name?: string };
  /** Form action URL and hidden fields. */
  action: string;
  fields: Record<string, string>;
}

/**
 * The consent page shown before the browser is sent to a third-party identity
 * provider (a self-registered client, GitHub or OIDC): the user is not known
 * yet, so it says where they will sign in instead. A kind of its own, so a
 * custom renderer that does not know it returns `undefined` and the built-in
 * page is shown.
 */
export interface ConsentBeforeSignInPageModel extends Omit<ConsentPageModel, 'kind' | 'user'> {
  kind: 'consent-before-sign-in';
  /** Where the user signs in next (`GitHub`, an OIDC issuer's host). */
  signInWith: string;
}

/** A plain message that is not an error, e.g. a consent request that was already answered. */
export interface NoticePageModel {
  kind: 'notice';
  /** Short machine-readable reason, e.g. `already_answered`. */
  notice: string;
  heading: string;
  message: string;
}

export interface LoginPageModel {
  kind: 'login';
  action: string;
  fields: Record<string, string>;
  username?: string;
  /** Shown above the form after a failed attempt. */
  message?: string;
}

/** Restyle hook: CSS added to every page, a product name, or a full renderer. */
export interface PageOptions {
  /** Extra CSS appended after the built-in styles. */
  css?: string;
  /** Shown in titles and headings (default "Authorization"). */
  productName?: string;
  /**
   * Replaces the body of a page. Return `undefined` to keep the built-in one.
   * The returned markup is used as is: escape every value you interpolate
   * (the `html` tagged template exported by this package does it).
   */
  render?: (model: PageModel) => string | SafeHtml | undefined;
}

const BASE_CSS = `
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:32rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:0 0 1rem}.muted{color:#5b6475;font-size:.9rem}.badge{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-size:.8rem}
.verified{background:#e3f6e8;color:#17612d}.neutral{background:#eef0f4;color:#1d2330;border-radius:8px;overflow-wrap:anywhere}.unverified{background:#fff3d6;color:#7a5200}.redirect{font-size:1.1rem;font-weight:700;word-break:break-all}
ul{padding-left:1.2rem}code{background:#f0f1f4;border-radius:4px;padding:0 .25rem;word-break:break-all}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}button{font:inherit;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #c7ccd6;background:#fff;cursor:pointer}
button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}label{display:block;margin:.75rem 0 .25rem}input{font:inherit;width:100%;padding:.5rem;border:1px solid #c7ccd6;border-radius:6px}
.error{color:#a4000f}.links{font-size:.9rem}.links a{margin-right:1rem}
.warning{background:#fff3d6;color:#4d3300;border-left:4px solid #b36b00;border-radius:8px;padding:.75rem 1rem;margin:1rem 0}.warning h2{font-size:1rem;margin:0 0 .25rem}.warning p{margin:0}`;

/** Wraps a body in the document shell with a per-response CSP nonce for styles. */
export function document(
  title: string,
  body: SafeHtml | string,
  nonce: string,
  options: PageOptions,
): string {
  const product = options.productName ?? 'Authorization';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} · ${product}</title>
        <style nonce="${nonce}">
          ${raw(BASE_CSS)}${raw(options.css ?? '')}
        </style>
      </head>
      <body>
        <main>${typeof body === 'string' ? raw(body) : body}</main>
      </body>
    </html>`.value;
}

/**
 * A page response with the headers every AS page carries: no caching, no
 * framing (`X-Frame-Options: DENY`, `frame-ancestors 'none'`), a CSP that
 * allows no scripts and only our nonce'd styles, no referrer, no sniffing.
 */
export function pageResponse(
  markup: string,
  nonce: string,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return bodyResponse(markup, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:; frame-ancestors 'none'; base-uri 'none'`,
      ...headers,
    },
  });
}
