// Upstream sign-in, browser audit: the connect flow is bound to the service it was started for and
// to the user who started it. Two stub upstreams on 127.0.0.1 (one honest, one that bounces the
// browser to the other's authorization endpoint: the mix-up attack of RFC 9700 §4.4), a real
// gateway driven through its pages over HTTP with a cookie jar per browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { Jar } from './helpers/jar.js';
import { listeningGateway } from './helpers/listening.js';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/oauth-upstream.js';

const ISSUER = 'http://127.0.0.1:8080';
let gw: Gateway;
let honest: OAuthUpstream;
let evil: OAuthUpstream;

beforeAll(async () => {
  honest = await startOAuthUpstream('honest');
  evil = await startOAuthUpstream('evil');
  ({ gw } = await listeningGateway({
    issuer: ISSUER,
    services: {
      honest: { type: 'http', url: honest.resource, credentials: { type: 'oauth' } },
      evil: { type: 'http', url: evil.resource, credentials: { type: 'oauth' } },
    },
  }));
  for (const user of ['alice', 'bob']) await gw.users.put(user, `${user}-password-1`);
});

afterAll(async () => {
  await honest?.close();
  await evil?.close();
});

/** A browser signed in to the gateway's account page as `user`. */
async function browserOf(user: string): Promise<Jar> {
  const jar = new Jar();
  jar.set('mcp-account', (await issueToken(gw, user, 'account')).access_token);
  return jar;
}

/** A page of the gateway, as the browser holding `jar` opens it (its cookies kept). */
async function open(jar: Jar, url: string): Promise<Response> {
  return jar.take(await gw.fetch(new Request(url, { headers: { cookie: jar.header } })));
}

/** Follows one redirect of an upstream (outside the gateway): where it sends the browser. */
async function upstreamRedirect(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status, await res.clone().text()).toBe(302);
  return res.headers.get('location')!;
}

/** "Connect" on the account page: the upstream `/authorize` URL the gateway sends the browser to. */
async function connect(jar: Jar, service: string): Promise<URL> {
  const res = await open(jar, `${ISSUER}/account/upstream/connect?service=${service}`);
  expect(res.status).toBe(303);
  return new URL(res.headers.get('location')!);
}

const stored = (service: string, user: string) =>
  gw.store.get(`gateway:upstream-tokens:${service} local:${user}`);

describe('upstream connect flow: one callback per service, bound to the service and the user', () => {
  it('each upstream is registered with, and sends the browser back to, its own callback; completing stores the tokens', async () => {
    const alice = await browserOf('alice');
    const authorize = await connect(alice, 'honest');
    const redirectUri = authorize.searchParams.get('redirect_uri');
    expect(redirectUri).toBe(`${ISSUER}/account/upstream/callback/honest`);
    expect([...honest.clients.values()]).toEqual([[redirectUri]]);
    const callback = await upstreamRedirect(authorize.href);
    const res = await open(alice, callback);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account');
    expect(honest.tokenRequests.at(-1)).toMatchObject({ grantType: 'authorization_code', redirectUri });
    expect(await stored('honest', 'alice')).toBeTypeOf('string');
    await gw.store.delete('gateway:upstream-tokens:honest local:alice');
  });

  it('mix-up: an upstream that bounces "Connect evil" to the honest server gets no code; nothing is redeemed or stored', async () => {
    // The attacker learns how the gateway is registered at the honest server by starting a connect there itself.
    const attacker = await connect(await browserOf('bob'), 'honest');
    evil.bounce = (q) => {
      const to = new URL(`${honest.url}/authorize`);
      for (const k of ['response_type', 'client_id', 'redirect_uri', 'resource', 'scope'])
        if (attacker.searchParams.has(k)) to.searchParams.set(k, attacker.searchParams.get(k)!);
      // The victim's flow: its state and PKCE challenge.
      for (const k of ['state', 'code_challenge', 'code_challenge_method']) to.searchParams.set(k, q.get(k)!);
      return to.href;
    };
    try {
      const alice = await browserOf('alice');
      const before = { honest: honest.tokenRequests.length, evil: evil.tokenRequests.length };
      const atEvil = await connect(alice, 'evil');
      expect(atEvil.origin).toBe(evil.url);
      const atHonest = await upstreamRedirect(atEvil.href);
      expect(new URL(atHonest).origin).toBe(honest.url);
      const callback = await upstreamRedirect(atHonest);
      const code = new URL(callback).searchParams.get('code')!;
      expect(honest.codes).toContain(code);
      const res = await open(alice, callback);
      // The honest server's code never reached the evil token endpoint (nor any other).
      expect(evil.tokenRequests.slice(before.evil)).toEqual([]);
      expect(honest.tokenRequests.slice(before.honest)).toEqual([]);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('came back for another service');
      expect(await stored('evil', 'alice')).toBeUndefined();
      expect(await stored('honest', 'alice')).toBeUndefined();
    } finally {
      delete evil.bounce;
    }
  });

  it('a flow started by one user and completed in the same browser under another is refused, and nothing is stored', async () => {
    const shared = await browserOf('alice');
    const callback = await upstreamRedirect((await connect(shared, 'honest')).href);
    // Alice walks away; Bob signs in to the account page in the same browser.
    shared.set('mcp-account', (await issueToken(gw, 'bob', 'account')).access_token);
    const before = honest.tokenRequests.length;
    const res = await open(shared, callback);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('started by another account');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('mcp-upstream=;'))).toBe(true);
    expect(honest.tokenRequests.length).toBe(before);
    expect(await stored('honest', 'bob')).toBeUndefined();
    expect(await stored('honest', 'alice')).toBeUndefined();
  });

  it('the shared callback path of earlier versions completes nothing', async () => {
    const alice = await browserOf('alice');
    const callback = new URL(await upstreamRedirect((await connect(alice, 'honest')).href));
    const before = honest.tokenRequests.length;
    const res = await open(alice, `${ISSUER}/account/upstream/callback${callback.search}`);
    expect(res.status).toBe(400);
    expect(honest.tokenRequests.length).toBe(before);
    expect(await stored('honest', 'alice')).toBeUndefined();
  });
});
