import { listen, type GitHubStub, type Listening } from '@mcp-gateway/testkit';
import { expect } from 'vitest';
import {
  createAuthorizationServer,
  type AuthorizationServer,
  type AuthorizationServerOptions,
} from '../../src/index.js';
import { githubIdentityProvider, type GitHubIdentityProviderOptions } from '../../src/idp/github.js';
import { hashPassword } from '../../src/idp/local.js';
import { silentLogger } from '../../src/http/errors.js';
import type { AuditRecord } from '../../src/audit/events.js';
import type { Clock } from '../../src/clock.js';

export const RESOURCE_PATH = '/mcp';

/** An authorization server on 127.0.0.1 whose issuer is its own URL. */
export interface TestAs {
  as: AuthorizationServer;
  url: string;
  resource: string;
  audit: AuditRecord[];
  close(): Promise<void>;
}

export async function startAs(
  opts: Omit<AuthorizationServerOptions, 'issuer'> & { issuerPath?: string; resource?: string } = {},
): Promise<TestAs> {
  const late: { as?: AuthorizationServer } = {};
  const srv: Listening = await listen((req) => late.as!.fetch(req, { remoteAddress: '127.0.0.1' }));
  const audit: AuditRecord[] = [];
  const { issuerPath, resource: givenResource, ...rest } = opts;
  const resource = givenResource ?? `${srv.url}${RESOURCE_PATH}`;
  const as = (late.as = createAuthorizationServer({
    issuer: `${srv.url}${issuerPath ?? ''}`,
    resources: [{ resource, scopes: ['mcp:read', 'mcp:write'], name: 'Test MCP', default: true }],
    logger: silentLogger,
    onAudit: (r) => void audit.push(r),
    ...rest,
  }));
  await as.ready();
  return {
    as,
    url: `${srv.url}${issuerPath ?? ''}`,
    resource,
    audit,
    close: async () => {
      await srv.close();
      await as.close();
    },
  };
}

/** An authorization server signing in with the GitHub stub `gh` (its default OAuth app), with `options`. */
export function startGitHubAs(
  gh: GitHubStub,
  options: Omit<GitHubIdentityProviderOptions, 'clientId' | 'clientSecret'> = {},
  asOptions: Omit<AuthorizationServerOptions, 'issuer' | 'identityProvider'> = {},
): Promise<TestAs> {
  return startAs({
    ...asOptions,
    identityProvider: githubIdentityProvider({
      clientId: 'gh-client',
      clientSecret: 'gh-secret',
      baseUrl: gh.url,
      apiUrl: gh.apiUrl,
      ...options,
    }),
  });
}

/** A low scrypt cost for tests (the default, N=2^17, is tested once in password.test.ts). */
export const TEST_PASSWORD_COST = { N: 1024, r: 8, p: 1 };

/** Local users for tests (hashes computed once). */
let alice: Promise<string> | undefined;
export async function localUsers() {
  alice ??= hashPassword('correct horse battery staple', TEST_PASSWORD_COST);
  return [{ username: 'alice', passwordHash: await alice, name: 'Alice Liddell' }];
}

/**
 * A tiny browser: a cookie jar plus manual redirects, so tests can see each hop.
 * With a `clock`, cookies expire as a browser's would (`Max-Age` on that clock),
 * so tests can move time past a cookie's lifetime without sleeping.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  private readonly expires = new Map<string, number>();

  constructor(private readonly clock?: Clock) {}

  private store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      this.cookies.set(name, pair!.slice(i + 1).trim());
      const maxAge = attrs.map((a) => /^\s*max-age=(-?\d+)\s*$/i.exec(a)?.[1]).find(Boolean);
      if (maxAge === undefined) this.expires.delete(name);
      else this.expires.set(name, (this.clock?.now() ?? Date.now()) + Number(maxAge) * 1000);
    }
  }

  cookieHeader(): string {
    const now = this.clock?.now() ?? Date.now();
    for (const [name, at] of this.expires) {
      if (at <= now) {
        this.cookies.delete(name);
        this.expires.delete(name);
      }
    }
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), ...headers },
    });
    this.store(res);
    return res;
  }

  async post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
      body: new URLSearchParams(form),
    });
    this.store(res);
    return res;
  }

  /**
   * Follows redirects from `url` until one leaves for `stopAt` (the client's
   * redirect URI), or a page (non-redirect) answers. Returns the final URL or response.
   */
  async follow(url: string, stopAt: string): Promise<{ location?: URL; page?: Response }> {
    let next = url;
    for (let i = 0; i < 10; i++) {
      if (next.startsWith(stopAt)) return { location: new URL(next) };
      const res = await this.get(next);
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc) {
        await res.body?.cancel();
        next = new URL(loc, next).href;
        continue;
      }
      return { page: res };
    }
    throw new Error('too many redirects');
  }

  /**
   * {@link follow}, approving on the way the consent page a self-registered client gets before
   * a third-party sign-in (the page saying "you will sign in with … next"), as its user would.
   */
  async followApproving(url: string, stopAt: string): Promise<{ location?: URL; page?: Response }> {
    const step = await this.follow(url, stopAt);
    if (!step.page) return step;
    const text = await step.page.text();
    if (!isConsentBeforeLogin(text)) return { page: new Response(text, step.page) };
    const res = await this.post(formAction(text), { ...hiddenFields(text), decision: 'approve' });
    const loc = res.headers.get('location');
    if (!loc) return { page: res };
    return this.follow(new URL(loc, url).href, stopAt);
  }

  /**
   * Opens `authorizeUrl` and returns the redirect to the identity provider (a `302`), through
   * the consent page before a third-party sign-in when one is shown (approved).
   */
  async toUpstream(authorizeUrl: string): Promise<Response> {
    const res = await this.get(authorizeUrl);
    const loc = res.headers.get('location');
    if (res.status !== 303 || !loc || new URL(loc, authorizeUrl).pathname.split('/').pop() !== 'consent')
      return res;
    await res.body?.cancel();
    const consentUrl = new URL(loc, authorizeUrl).href;
    const page = await (await this.get(consentUrl)).text();
    expect(isConsentBeforeLogin(page), 'the consent page before the sign-in').toBe(true);
    return this.post(formAction(page), { ...hiddenFields(page), decision: 'approve' });
  }
}

/** Whether `page` is the consent page shown before a third-party sign-in. */
export const isConsentBeforeLogin = (page: string): boolean => page.includes('id="sign-in-next"');

/**
 * A self-registered (dynamic or CIMD) client's error, as the authorization server must give
 * it (RFC 9700 §4.11.2, no open redirect): the HTML error page with `status` and no
 * `Location`, whose "Return to <host>" link carries the error to the redirect URI. Returns
 * that link (`error`, `error_description`, `state`, `iss`) and the host it shows.
 */
export async function errorPageLink(
  res: Response | undefined,
  status: number,
): Promise<{ back: URL; shown: string }> {
  expect(res, 'the error page, not a redirect to the client').toBeDefined();
  expect(res!.status).toBe(status);
  expect(res!.headers.get('location')).toBeNull();
  expect(res!.headers.get('content-type')).toMatch(/^text\/html/);
  const page = await res!.text();
  expect(page).not.toContain('<script');
  const link = /<a id="return-to" href="([^"]+)"[^>]*>Return to <bdi>([^<]+)<\/bdi><\/a/.exec(page);
  expect(link, 'a "Return to" link').not.toBeNull();
  const back = new URL(unescapeHtml(link![1]!));
  expect(page).toContain(`<code>${back.searchParams.get('error')}</code>`);
  return { back, shown: unescapeHtml(link![2]!) };
}

/**
 * A self-registered client's error when its redirect URI is a loopback IP literal (RFC 8252
 * §7.3, a native app on the user's machine): an automatic redirect there, as for a static
 * client, never the error page. Takes a response or a {@link Browser.follow} result; returns
 * the redirect's parameters (`error`, `error_description`, `state`, `iss`, checked present).
 */
export function loopbackError(
  r: Response | { location?: URL; page?: Response },
  redirectUri: string,
): URLSearchParams {
  let location: URL | undefined;
  if (r instanceof Response) {
    expect(r.status, 'an automatic redirect to the loopback client').toBe(302);
    expect(r.headers.get('cache-control')).toBe('no-store');
    location = new URL(r.headers.get('location')!);
  } else {
    expect(r.page, 'an automatic redirect to the loopback client, not a page').toBeUndefined();
    location = r.location;
  }
  expect(location!.origin + location!.pathname).toBe(redirectUri);
  const params = location!.searchParams;
  for (const name of ['error', 'error_description', 'state', 'iss'])
    expect(params.get(name), name).toBeTruthy();
  expect(params.get('code')).toBeNull();
  return params;
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** Reads the hidden inputs of the first form in a page. */
export function hiddenFields(page: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of page.matchAll(/<input\s+type="hidden"\s+name="([^"]+)"\s+value="([^"]*)"\s*\/?>/g)) {
    out[m[1]!] = unescapeHtml(m[2]!);
  }
  return out;
}

/** The form action of the first form. */
export function formAction(page: string): string {
  return /<form\s+method="post"\s+action="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
}

/**
 * Runs a browser through login and consent for an authorization URL. For the
 * local provider it signs in as `alice`; upstream stubs auto-approve. Returns
 * the callback URL at the client's redirect URI.
 */
export async function completeLogin(
  browser: Browser,
  authorizeUrl: string,
  redirectUri: string,
  opts: { password?: string; consent?: 'approve' | 'deny' } = {},
): Promise<URL> {
  let step = await browser.follow(authorizeUrl, redirectUri);
  for (let i = 0; i < 4 && step.page; i++) {
    const page = step.page;
    const text = await page.text();
    if (page.status !== 200 && page.status !== 401)
      throw new Error(
        `unexpected page ${page.status}: ${text
          .replace(/<style[^]*<\/style>/, '')
          .replace(/\s+/g, ' ')
          .slice(0, 600)}`,
      );
    const fields = hiddenFields(text);
    const action = formAction(text);
    const res = text.includes('name="password"')
      ? await browser.post(action, {
          ...fields,
          username: 'alice',
          password: opts.password ?? 'correct horse battery staple',
        })
      : await browser.post(action, { ...fields, decision: opts.consent ?? 'approve' });
    const loc = res.headers.get('location');
    if (!loc) {
      step = { page: res };
      if (res.status === 401) throw new Error('login refused');
      continue;
    }
    step = await browser.follow(new URL(loc, action).href, redirectUri);
  }
  if (!step.location) throw new Error('login did not reach the redirect URI');
  return step.location;
}

export { hashPassword };

/**
 * Registers a public client (unless `clientId` names one registered with this helper's redirect
 * URI) and runs the code flow (PKCE, local sign-in as alice, consent) for `scope` (default:
 * every scope of the resource).
 */
export async function issueAccessToken(
  t: TestAs,
  opts: { scope?: string; grantTypes?: string[]; clientId?: string } = {},
): Promise<{ access_token: string; refresh_token?: string; scope?: string; client_id: string }> {
  const redirect = 'http://127.0.0.1:7777/cb';
  const reg = opts.clientId
    ? { client: { client_id: opts.clientId } }
    : await t.as.clients.register({
        redirect_uris: [redirect],
        token_endpoint_auth_method: 'none',
        ...(opts.grantTypes ? { grant_types: opts.grantTypes } : {}),
      });
  const verifier = 'r'.repeat(43);
  const challenge = Buffer.from(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  ).toString('base64url');
  const u = new URL(`${t.url}/authorize`);
  u.search = new URLSearchParams({
    client_id: reg.client.client_id,
    redirect_uri: redirect,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(opts.scope ? { scope: opts.scope } : {}),
  }).toString();
  const cb = await completeLogin(new Browser(), u.href, redirect);
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: cb.searchParams.get('code')!,
      code_verifier: verifier,
      redirect_uri: redirect,
      client_id: reg.client.client_id,
    }),
  });
  const body = (await res.json()) as { access_token: string; refresh_token?: string; scope?: string };
  return { ...body, client_id: reg.client.client_id };
}

/** A resource server (MCP-ish endpoint at /mcp) guarded by the AS, serving its RFC 9728 document. */
export interface TestStack extends TestAs {
  rs: Listening;
}

export async function startStack(
  opts: Omit<AuthorizationServerOptions, 'issuer'> & { issuerPath?: string } = {},
): Promise<TestStack> {
  const late: { stack?: TestAs } = {};
  const rs = await listen(async (req) => {
    const stack = late.stack;
    const url = new URL(req.url);
    if (url.pathname === `/.well-known/oauth-protected-resource${RESOURCE_PATH}`) {
      return Response.json(stack!.as.protectedResourceMetadata(stack!.resource));
    }
    if (url.pathname === RESOURCE_PATH) {
      const check = await stack!.as.requireBearer({ resource: stack!.resource, scopes: ['mcp:read'] })(req);
      if (!check.ok) return check.response;
      return Response.json({ sub: check.token.sub, login: check.token.login, scopes: check.token.scopes });
    }
    return new Response('not found', { status: 404 });
  });
  const stack = (late.stack = await startAs({ ...opts, resource: `${rs.url}${RESOURCE_PATH}` }));
  const closeAs = stack.close;
  return {
    ...stack,
    rs,
    close: async () => {
      await rs.close();
      await closeAs();
    },
  };
}
