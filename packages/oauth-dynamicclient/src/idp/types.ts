import type { Clock } from '../clock.js';
import type { IdGenerator } from '../ids.js';
import type { BrowserBinding } from './browser-binding.js';
import type { Pages } from '../pages/pages.js';
import type { RouteOf } from '../route.js';
import type { Store } from '../store/types.js';

/** Who logged in upstream. */
export interface UpstreamIdentity {
  /** Stable subject, qualified by the provider: `github:583231`, `oidc:<issuer>#<sub>`, `local:alice`. Authorization decisions use this, never `login`. */
  sub: string;
  /** Login / user name (GitHub login, OIDC `preferred_username` or email, local user name): for display only, it may change or be chosen by the user. */
  login: string;
  name?: string;
  email?: string;
  /**
   * Group memberships the provider reported, by immutable id where it has one
   * (`github-org:<id>`, `github-team:<id>`; an OIDC provider's `groups` claim;
   * a local user's configured groups): for authorization (per-tool policy).
   * Carried into the access token's `groups` claim, bounded (`tokens/groups.ts`).
   */
  groups?: string[];
}

/** Why an upstream login did not produce an admitted identity. */
export type LoginFailure =
  /** The user said no at the provider. */
  | 'denied'
  /** The user is not on the allow-list. */
  | 'not_allowed'
  /** The provider refused the code or answered nonsense (bad code, bad ID token…). */
  | 'upstream_error'
  /** The provider is down or too slow. */
  | 'unavailable';

/** A login that did not work; `reason` maps to the error the client receives. */
export class LoginError extends Error {
  override readonly name = 'LoginError';
  constructor(
    readonly reason: LoginFailure,
    message: string,
    /** Login or subject, when known (for the audit log). */
    readonly who?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Services an identity provider may use, handed over by the server at start-up. */
export interface IdpContext {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  pages: Pages;
  /** Absolute URL of a path under the issuer. */
  endpoint(path: string): string;
  /** Path (for routes) of a path under the issuer. */
  path(path: string): string;
  /** The issuer's `/callback` URL, where every provider returns the browser. */
  callbackUrl: string;
  /** Reports a failed login attempt (audit). */
  loginFailed(input: { provider: string; reason: LoginFailure; who?: string }): void;
  /**
   * The browser-binding cookie of the login flows: a provider serving its own
   * forms binds their CSRF tokens and one-time codes to it.
   */
  binding: BrowserBinding;
}

/**
 * A route a provider serves itself: a server `Route` whose handler does not use the server
 * context (the provider has its {@link IdpContext}), so any `Route` fits.
 */
export type ProviderRoute = RouteOf<never>;

/**
 * Where users prove who they are. The server sends the browser to
 * {@link begin}'s URL with a random single-use `state`; the provider sends
 * it back to `/callback?state=…`, and {@link complete} turns the callback
 * parameters into an identity. Upstream tokens are used there and dropped.
 */
export interface IdentityProvider {
  /** Short id, also the prefix of `sub` (`github`, `oidc`, `local`). */
  readonly id: string;
  /**
   * Whether {@link begin} sends the browser to another server: a third-party
   * authorization server this server signs in at with one static client id,
   * whatever MCP client asked. Then a self-registered (dynamic or CIMD) client
   * gets this server's consent page *before* that redirect, unless the browser
   * approved the same request before (MCP security best practices, "Confused
   * Deputy Problem"). Default `true`; the local provider, whose form this
   * server serves itself, says `false`.
   */
  readonly thirdParty?: boolean;
  /** Where the user signs in, as shown on the consent page before it (`GitHub`, an OIDC issuer's host). */
  readonly displayName?: string;
  /** Called once when the server starts. */
  attach?(ctx: IdpContext): void;
  /** Routes the provider serves itself (the local login form). */
  routes?(): ProviderRoute[];
  /** Where to send the browser, plus private data to keep until the callback (PKCE verifier, nonce). */
  begin(input: { state: string }): Promise<{ url: string; data: Record<string, string> }>;
  /** Turns the callback into an identity; throws {@link LoginError}. */
  complete(input: {
    params: URLSearchParams;
    state: string;
    data: Record<string, string>;
    /** Hash of the browser-binding value the flow was started with (already checked against the request). */
    binding?: string;
  }): Promise<UpstreamIdentity>;
}

/** `*` admits everyone; otherwise case-insensitive membership. An empty list admits nobody. */
export function listAdmits(list: string[] | undefined, ...candidates: (string | undefined)[]): boolean {
  if (!list?.length) return false;
  if (list.includes('*')) return true;
  const wanted = new Set(list.map((v) => v.toLowerCase()));
  return candidates.some((c) => c !== undefined && wanted.has(c.toLowerCase()));
}
