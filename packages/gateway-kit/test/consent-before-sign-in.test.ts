import { startGitHubStub, type GitHubStub } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../src/index.js';
import type { Gateway } from '../src/gateway/create.js';
import { ISSUER, testGateways } from './helpers.js';
import { Jar } from './helpers/jar.js';

// With GitHub or OIDC, an app that registered itself gets the consent page before the browser is
// sent to the provider (MCP authorization: proxies using static client IDs MUST obtain consent for
// each dynamically registered client before forwarding), remembered per browser for
// `authorization.rememberConsent`. The flow itself is tested in oauth-dynamicclient; here: the
// gateway's config key, and that the gateway's login observer keeps the local IdP's order.

const REDIRECT = 'http://127.0.0.1/app-cb';
const { gateway } = testGateways();
let gh: GitHubStub;
beforeAll(async () => {
  gh = await startGitHubStub();
});
afterAll(() => gh.close());

const github = (authorization: Record<string, unknown> = {}) =>
  gateway({
    idp: {
      type: 'github',
      clientId: 'gh-client',
      clientSecret: 'gh-secret',
      allowedUsers: ['*'],
      baseUrl: gh.url,
      apiBaseUrl: gh.apiUrl,
    },
    services: { web: { type: 'fetch', users: ['*'] } },
    authorization,
  });

async function registerApp(gw: Gateway): Promise<string> {
  const res = await gw.fetch(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        client_name: 'App',
      }),
    }),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

/** `/authorize` for the app as the browser holding `jar`. */
async function authorize(gw: Gateway, jar: Jar, clientId: string): Promise<Response> {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
    state: 's',
    resource: `${ISSUER}/web/mcp`,
  });
  return jar.take(
    await gw.fetch(new Request(`${ISSUER}/authorize?${query}`, { headers: { cookie: jar.header } })),
  );
}

/** Follows `/authorize`'s 303 to the consent page before the sign-in and approves it; returns the answer. */
async function approve(gw: Gateway, jar: Jar, start: Response): Promise<Response> {
  expect(start.status, start.headers.get('location') ?? '').toBe(303);
  const page = await (
    await gw.fetch(
      new Request(new URL(start.headers.get('location')!, ISSUER), { headers: { cookie: jar.header } }),
    )
  ).text();
  expect(page).toMatch(/sign in with <bdi>GitHub<\/bdi> next/);
  const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
  const fields = new URLSearchParams({ decision: 'approve' });
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields.set(m[1]!, m[2]!.replace(/&amp;/g, '&'));
  return jar.take(
    await gw.fetch(
      new Request(new URL(action, ISSUER), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header, origin: ISSUER },
        body: fields,
      }),
    ),
  );
}

describe('consent before the third-party sign-in, in the gateway', () => {
  it('by default the browser remembers the approval for 30 days: the next sign-in of the app goes straight to GitHub', async () => {
    const gw = await github();
    const app = await registerApp(gw);
    const jar = new Jar();
    const approved = await approve(gw, jar, await authorize(gw, jar, app));
    expect(approved.status).toBe(302);
    expect(approved.headers.get('location')!.startsWith(gh.url)).toBe(true);
    const cookie = approved.headers.getSetCookie().find((c) => c.startsWith('mcp-as-consent='));
    expect(cookie).toContain('Max-Age=2592000');
    const again = await authorize(gw, jar, app);
    expect(again.status).toBe(302);
    expect(again.headers.get('location')!.startsWith(gh.url)).toBe(true);
  });

  it('authorization.rememberConsent: 0 asks every time and sets no consent cookie', async () => {
    const gw = await github({ rememberConsent: 0 });
    const app = await registerApp(gw);
    const jar = new Jar();
    const approved = await approve(gw, jar, await authorize(gw, jar, app));
    expect(approved.status).toBe(302);
    expect(approved.headers.getSetCookie().some((c) => c.startsWith('mcp-as-consent='))).toBe(false);
    const again = await approve(gw, jar, await authorize(gw, jar, app));
    expect(again.status).toBe(302);
  });

  it('the local IdP keeps sign-in first (its form is the gateway own; the login observer passes thirdParty through)', async () => {
    const gw = await gateway({ services: { web: { type: 'fetch', users: ['*'] } } });
    const start = await authorize(gw, new Jar(), await registerApp(gw));
    expect(start.status).toBe(302);
    expect(new URL(start.headers.get('location')!, ISSUER).pathname).toBe('/login');
  });

  it('a negative rememberConsent is a config error naming the field', () => {
    let error: unknown;
    try {
      resolveConfig({ authorization: { rememberConsent: -1 } }, { env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain('authorization.rememberConsent');
  });
});
