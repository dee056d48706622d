// The gateway's upstream sign-in pages as a browser uses them, over HTTP: a cookie jar per browser,
// the gateway's pages through `gw.fetch`, the upstream's redirects followed by hand.
import { expect } from 'vitest';
import { issueToken } from '../../src/gateway/cli-token.js';
import type { Gateway } from '../../src/gateway/create.js';
import { Jar } from './jar.js';

/** The gateway's issuer in these tests ({@link listeningGateway}'s default). */
export const PAGES_ISSUER = 'http://127.0.0.1:8080';

/** A browser signed in to the gateway's account page as `user`. */
export async function browserOf(gw: Gateway, user: string): Promise<Jar> {
  const jar = new Jar();
  jar.set('mcp-account', (await issueToken(gw, user, 'account')).access_token);
  return jar;
}

/** A page of gateway `gw`, as the browser holding `jar` opens it (its cookies kept). */
export async function openPage(gw: Gateway, jar: Jar, url: string): Promise<Response> {
  return jar.take(await gw.fetch(new Request(url, { headers: { cookie: jar.header } })));
}

/** Follows one redirect of an upstream (outside the gateway): where it sends the browser. */
export async function upstreamRedirect(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status, await res.clone().text()).toBe(302);
  return res.headers.get('location')!;
}

/** "Connect" on the account page of `gw`: its answer (303 to the upstream's `/authorize` when it can). */
export function connectPage(gw: Gateway, jar: Jar, service: string): Promise<Response> {
  return openPage(gw, jar, `${PAGES_ISSUER}/account/upstream/connect?service=${service}`);
}

/**
 * `user` connects `service` through the pages, from "Connect" to the callback (the upstream
 * approves at once); returns the callback's answer (303 to `/account` when connected).
 */
export async function connectThrough(gw: Gateway, user: string, service: string): Promise<Response> {
  const jar = await browserOf(gw, user);
  const toUpstream = await connectPage(gw, jar, service);
  expect(toUpstream.status, await toUpstream.clone().text()).toBe(303);
  return openPage(gw, jar, await upstreamRedirect(toUpstream.headers.get('location')!));
}
