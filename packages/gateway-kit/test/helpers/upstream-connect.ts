// The connect step of upstream sign-in as a user's browser goes through it: the gateway's connect
// page (signed in to the account page), the upstream's /authorize, the gateway's callback.
import { expect } from 'vitest';
import { issueToken } from '../../src/gateway/cli-token.js';
import type { Gateway } from '../../src/gateway/create.js';
import { Jar } from './jar.js';

/** `user` connects the upstream of a service on `gw`'s pages, starting from `connectUrl` (over HTTP). */
export async function connectThroughPages(gw: Gateway, user: string, connectUrl: string): Promise<void> {
  const jar = new Jar();
  jar.set('mcp-account', (await issueToken(gw, user, 'account')).access_token);
  const open = async (url: string) =>
    jar.take(await gw.fetch(new Request(url, { headers: { cookie: jar.header } })));
  const toUpstream = await open(connectUrl);
  expect(toUpstream.status).toBe(303);
  const back = await fetch(toUpstream.headers.get('location')!, { redirect: 'manual' });
  const done = await open(back.headers.get('location')!);
  expect(done.status).toBe(303);
}
