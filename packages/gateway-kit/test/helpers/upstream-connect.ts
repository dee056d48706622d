// The connect step of upstream sign-in as a user's browser goes through it: the gateway's connect
// page (signed in to the account page), the upstream's /authorize, the gateway's callback.
import { expect } from 'vitest';
import { issueToken } from '../../src/gateway/cli-token.js';
import type { Gateway } from '../../src/gateway/create.js';
import { Jar } from './jar.js';

/**
 * `user` connects the upstream of a service on `gw`'s pages, starting from `connectUrl` (over HTTP);
 * the callback must answer `expected` (default 303: connected). Returns the connect page's answer
 * (its connect cookie) and the callback's.
 */
export async function connectThroughPages(
  gw: Gateway,
  user: string,
  connectUrl: string,
  expected = 303,
): Promise<{ started: Response; done: Response }> {
  const jar = new Jar();
  jar.set('mcp-account', (await issueToken(gw, user, 'account')).access_token);
  const open = async (url: string) =>
    jar.take(await gw.fetch(new Request(url, { headers: { cookie: jar.header } })));
  const started = await open(connectUrl);
  expect(started.status).toBe(303);
  const back = await fetch(started.headers.get('location')!, { redirect: 'manual' });
  const done = await open(back.headers.get('location')!);
  expect(done.status).toBe(expected);
  return { started, done };
}
