// Upstream sign-in, step-up review fixes: one pending Connect per user and service; only
// `invalid_scope` or a smaller grant refuses a scope, for a day; a step-up that would drop a scope
// the user holds is a 502. A real gateway on 127.0.0.1, a stub OAuth upstream (fetch-server behind
// its own authorization server), the pages driven over HTTP, raw 2026-07-28 requests.
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { ChallengedScopes, REFUSED_TTL_MS } from '../src/upstream/challenged-scopes.js';
import { createLogger } from '../src/ops/logger.js';
import { listeningGateway } from './helpers/listening.js';
import { mrtrAnswer, type MrtrAnswer } from './helpers/mrtr-answer.js';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/oauth-upstream.js';
import { connectThroughPages } from './helpers/upstream-connect.js';
import { browserOf, connectPage, openPage, upstreamRedirect } from './helpers/upstream-pages.js';

const ISSUER = 'http://127.0.0.1:8080';
const connectUrl = (service: string) => `${ISSUER}/account/upstream/connect?service=${service}`;
const USERS = ['leo', 'mia', 'nick', 'olga', 'pat'] as const;
type User = (typeof USERS)[number];

let gw: Gateway;
let base: string;
let up: OAuthUpstream;
let page: Listening;
const tokens = {} as Record<User, string>;
/** The gateway's log lines. */
const lines: Record<string, unknown>[] = [];

/** `tools/call` of `fetch` needs `write`; anything else needs nothing beyond a valid token. */
const needsWrite = (body: unknown) =>
  (body as { method?: string }).method === 'tools/call' ? 'write' : undefined;

beforeAll(async () => {
  page = await listen(() => new Response('hello', { headers: { 'content-type': 'text/plain' } }));
  up = await startOAuthUpstream('review');
  up.scopesSupported = ['read', 'write', 'admin'];
  up.challengeScope = 'read';
  up.requiredScope = needsWrite;
  ({ gw, url: base } = await listeningGateway(
    {
      issuer: ISSUER,
      services: { tracker: { type: 'http', url: up.resource, credentials: { type: 'oauth' } } },
    },
    {},
    { logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }) },
  ));
  for (const user of USERS) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, 'tracker')).access_token;
  }
});

afterAll(async () => {
  await up?.close();
  await page?.close();
});

const FETCH_CALL = () => ({ name: 'fetch', arguments: { url: `${page.url}/` } });

/** A raw 2026-07-28 `tools/call` of `user`. */
async function post2026(user: User, params: Record<string, unknown>, id = 1): Promise<MrtrAnswer> {
  const { body, headers } = request2026('tools/call', params, {
    capabilities: { elicitation: { url: {} } },
    id,
  });
  const res = await fetch(`${base}/tracker/mcp`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${tokens[user]}` },
    body,
  });
  return mrtrAnswer(res);
}

/** The scopes of the last `/authorize` request, as a list. */
const lastAsked = () => (up.authorizeQueries.at(-1)?.get('scope') ?? '').split(' ');

/** A `tools/call` of `fetch` needs `scope` (anything else nothing) while `run` runs. */
async function needing<T>(scope: string, run: () => Promise<T>): Promise<T> {
  up.requiredScope = (body) => ((body as { method?: string }).method === 'tools/call' ? scope : undefined);
  try {
    return await run();
  } finally {
    up.requiredScope = needsWrite;
  }
}

describe('upstream sign-in: pending Connects', () => {
  it('a user has one pending Connect per service: a newer Connect replaces the record of the older one, whose callback then fails', async () => {
    const key = 'gateway:upstream-connect-scope:tracker local:leo';
    const older = await browserOf(gw, 'leo');
    const newer = await browserOf(gw, 'leo');
    const first = await connectPage(gw, older, 'tracker');
    expect(first.status).toBe(303);
    const kept = await gw.store.get(key);
    expect(kept).toBeDefined();
    for (let i = 0; i < 3; i++) expect((await connectPage(gw, newer, 'tracker')).status).toBe(303);
    const second = await connectPage(gw, newer, 'tracker');
    expect(await gw.store.get(key)).not.toEqual(kept);
    // Nothing stored under the states themselves: one record for leo at tracker.
    const stale = await openPage(gw, older, await upstreamRedirect(first.headers.get('location')!));
    expect(stale.status).toBe(400);
    expect(await stale.text()).toContain('id="replaced"');
    const done = await openPage(gw, newer, await upstreamRedirect(second.headers.get('location')!));
    expect(done.status).toBe(303);
    expect(await gw.store.get(key)).toBeUndefined();
  });
});

describe('upstream sign-in: what counts as a refused scope', () => {
  it('a step-up the user cancels (access_denied) or the operator misconfigured (unauthorized_client) refuses no scope: the next call needing it asks for the step-up again', async () => {
    for (const [user, error] of [
      ['mia', 'access_denied'],
      ['nick', 'unauthorized_client'],
    ] as const) {
      up.refuse = (asked) => (asked.split(' ').includes('admin') ? error : undefined);
      try {
        await connectThroughPages(gw, user, connectUrl('tracker'));
        await needing('admin', async () => {
          expect((await post2026(user, FETCH_CALL())).result?.resultType).toBe('input_required');
          await connectThroughPages(gw, user, connectUrl('tracker'), 400);
          expect(lastAsked()).toContain('admin');
          expect((await post2026(user, FETCH_CALL(), 2)).result?.resultType).toBe('input_required');
        });
        await connectThroughPages(gw, user, connectUrl('tracker'), 400);
        expect(lastAsked()).toContain('admin');
      } finally {
        delete up.refuse;
      }
    }
  });

  it('a refused scope is refused for a day only: then it is challenged, recorded and asked for again', async () => {
    let now = Date.UTC(2026, 0, 1);
    const scopes = new ChallengedScopes(new MemoryStore(), () => now);
    await scopes.add('tracker', 'local:x', 'read admin');
    await scopes.refuse('tracker', 'local:x', ['admin']);
    await scopes.add('tracker', 'local:x', 'admin');
    expect(await scopes.get('tracker', 'local:x')).toEqual({ challenged: ['read'], refused: ['admin'] });
    now += REFUSED_TTL_MS - 1;
    expect((await scopes.get('tracker', 'local:x'))?.refused).toEqual(['admin']);
    now += 2;
    expect(await scopes.get('tracker', 'local:x')).toEqual({ challenged: ['read'], refused: [] });
    await scopes.add('tracker', 'local:x', 'admin');
    expect(await scopes.get('tracker', 'local:x')).toEqual({ challenged: ['read', 'admin'], refused: [] });
  });
});

describe('upstream sign-in: granted scopes and the bounds', () => {
  it('a comma-separated granted scope (GitHub style) counts as granting each scope: none is marked refused, and the next Connect asks for them space-separated', async () => {
    await connectThroughPages(gw, 'pat', connectUrl('tracker'));
    expect((await post2026('pat', FETCH_CALL())).result?.resultType).toBe('input_required');
    up.grant = (asked) => asked.split(' ').join(',');
    try {
      await connectThroughPages(gw, 'pat', connectUrl('tracker'));
      expect(lastAsked()).toEqual(['read', 'write']);
      expect([...up.tokenScopes.values()].at(-1)).toBe('read,write');
      expect(
        await gw.store.get<{ refused: unknown[] }>('gateway:upstream-challenged-scopes:tracker local:pat'),
      ).toMatchObject({ refused: [] });
      await connectThroughPages(gw, 'pat', connectUrl('tracker'));
      expect(lastAsked()).toEqual(['read', 'write']);
    } finally {
      delete up.grant;
    }
  });

  it('a step-up whose sign-in would leave out a scope the user holds (beyond 1024 characters) is a 502, not a reconnect loop; the log carries at most 200 characters of the scope', async () => {
    await connectThroughPages(gw, 'olga', connectUrl('tracker'));
    expect((await post2026('olga', FETCH_CALL())).result?.resultType).toBe('input_required');
    await connectThroughPages(gw, 'olga', connectUrl('tracker'));
    expect(lastAsked()).toEqual(['read', 'write']);
    // With `read` it fits 1024 characters exactly; with `write` too it would not.
    const wide = [...Array.from({ length: 10 }, (_, i) => `${i}`.repeat(100)), 'z'.repeat(9)].join(' ');
    expect(wide.length).toBe(1019);
    const authorizes = up.authorizeQueries.length;
    const answer = await needing(wide, () => post2026('olga', FETCH_CALL(), 2));
    expect(answer.status).toBe(502);
    expect(up.authorizeQueries.length).toBe(authorizes);
    const logged = lines.filter((l) => l.user === 'local:olga' && typeof l.scope === 'string');
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) expect((l.scope as string).length).toBeLessThanOrEqual(200);
  });
});
