// Upstream sign-in, step-up review fixes: one pending Connect per user and service; only
// `invalid_scope` or a smaller grant refuses a scope, for a day; a step-up that would drop a scope
// the user holds is a 502. A real gateway on 127.0.0.1, a stub OAuth upstream (fetch-server behind
// its own authorization server), the pages driven over HTTP, raw 2026-07-28 requests.
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { describe, expect, it } from 'vitest';
import { ChallengedScopes, REFUSED_TTL_MS } from '../src/upstream/challenged-scopes.js';
import { createLogger } from '../src/ops/logger.js';
import { connectThroughPages } from './helpers/upstream-connect.js';
import { connectUrl, stepUpFixture } from './helpers/step-up-fixture.js';
import { browserOf, connectPage, openPage, upstreamRedirect } from './helpers/upstream-pages.js';

const USERS = ['leo', 'mia', 'nick', 'olga', 'pat'] as const;

/** The gateway's log lines. */
const lines: Record<string, unknown>[] = [];

const f = stepUpFixture({
  name: 'review',
  users: USERS,
  pageText: 'hello',
  gateway: { logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }) },
});

/** The scopes of the last `/authorize` request, as a list. */
const lastAsked = () => (f.up.authorizeQueries.at(-1)?.get('scope') ?? '').split(' ');

describe('upstream sign-in: pending Connects', () => {
  it('a user has one pending Connect per service: a newer Connect replaces the record of the older one, whose callback then fails', async () => {
    const key = 'gateway:upstream-connect-scope:tracker local:leo';
    const older = await browserOf(f.gw, 'leo');
    const newer = await browserOf(f.gw, 'leo');
    const first = await connectPage(f.gw, older, 'tracker');
    expect(first.status).toBe(303);
    const kept = await f.gw.store.get(key);
    expect(kept).toBeDefined();
    for (let i = 0; i < 3; i++) expect((await connectPage(f.gw, newer, 'tracker')).status).toBe(303);
    const second = await connectPage(f.gw, newer, 'tracker');
    expect(await f.gw.store.get(key)).not.toEqual(kept);
    // Nothing stored under the states themselves: one record for leo at tracker.
    const stale = await openPage(f.gw, older, await upstreamRedirect(first.headers.get('location')!));
    expect(stale.status).toBe(400);
    expect(await stale.text()).toContain('id="replaced"');
    const done = await openPage(f.gw, newer, await upstreamRedirect(second.headers.get('location')!));
    expect(done.status).toBe(303);
    expect(await f.gw.store.get(key)).toBeUndefined();
  });
});

describe('upstream sign-in: what counts as a refused scope', () => {
  it('a step-up the user cancels (access_denied) or the operator misconfigured (unauthorized_client) refuses no scope: the next call needing it asks for the step-up again', async () => {
    for (const [user, error] of [
      ['mia', 'access_denied'],
      ['nick', 'unauthorized_client'],
    ] as const) {
      f.up.refuse = (asked) => (asked.split(' ').includes('admin') ? error : undefined);
      try {
        await connectThroughPages(f.gw, user, connectUrl('tracker'));
        await f.needing('admin', async () => {
          expect((await f.post2026(user, f.fetchCall())).result?.resultType).toBe('input_required');
          await connectThroughPages(f.gw, user, connectUrl('tracker'), 400);
          expect(lastAsked()).toContain('admin');
          expect((await f.post2026(user, f.fetchCall(), 2)).result?.resultType).toBe('input_required');
        });
        await connectThroughPages(f.gw, user, connectUrl('tracker'), 400);
        expect(lastAsked()).toContain('admin');
      } finally {
        delete f.up.refuse;
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
    await connectThroughPages(f.gw, 'pat', connectUrl('tracker'));
    expect((await f.post2026('pat', f.fetchCall())).result?.resultType).toBe('input_required');
    f.up.grant = (asked) => asked.split(' ').join(',');
    try {
      await connectThroughPages(f.gw, 'pat', connectUrl('tracker'));
      expect(lastAsked()).toEqual(['read', 'write']);
      expect([...f.up.tokenScopes.values()].at(-1)).toBe('read,write');
      expect(
        await f.gw.store.get<{ refused: unknown[] }>('gateway:upstream-challenged-scopes:tracker local:pat'),
      ).toMatchObject({ refused: [] });
      await connectThroughPages(f.gw, 'pat', connectUrl('tracker'));
      expect(lastAsked()).toEqual(['read', 'write']);
    } finally {
      delete f.up.grant;
    }
  });

  it('a step-up whose sign-in would leave out a scope the user holds (beyond 1024 characters) is a 502, not a reconnect loop; the log carries at most 200 characters of the scope', async () => {
    await connectThroughPages(f.gw, 'olga', connectUrl('tracker'));
    expect((await f.post2026('olga', f.fetchCall())).result?.resultType).toBe('input_required');
    await connectThroughPages(f.gw, 'olga', connectUrl('tracker'));
    expect(lastAsked()).toEqual(['read', 'write']);
    // With `read` it fits 1024 characters exactly; with `write` too it would not.
    const wide = [...Array.from({ length: 10 }, (_, i) => `${i}`.repeat(100)), 'z'.repeat(9)].join(' ');
    expect(wide.length).toBe(1019);
    const authorizes = f.up.authorizeQueries.length;
    const answer = await f.needing(wide, () => f.post2026('olga', f.fetchCall(), 2));
    expect(answer.status).toBe(502);
    expect(f.up.authorizeQueries.length).toBe(authorizes);
    const logged = lines.filter((l) => l.user === 'local:olga' && typeof l.scope === 'string');
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) expect((l.scope as string).length).toBeLessThanOrEqual(200);
  });
});
