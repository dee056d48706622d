// Upstream sign-in, an authorization server migration noticed without a restart (MCP 2026-07-28
// authorization): the gateway keeps an upstream's discovery for an hour at most (less when its
// documents' `Cache-Control: max-age` says so), and discovers again earlier when the upstream's
// 401 names another RFC 9728 document or the token endpoint in use is gone; discoveries of one
// upstream start at most once per 30 s, whatever asks for them. Stub upstreams on 127.0.0.1; the
// clock of the sign-in is moved, nothing sleeps.
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { UpstreamOAuthClient } from '../src/upstream/oauth-client.js';
import { SecretBox } from '../src/upstream/secret-box.js';
import type { OAuthUpstream } from './helpers/oauth-upstream.js';
import {
  HAND,
  instance,
  mcpOf,
  move,
  signInHits,
  stored,
  stubUpstream,
  upstreamThatMoves,
} from './helpers/upstream-moves.js';
import { browserOf, connectPage, connectThrough } from './helpers/upstream-pages.js';

const MINUTE = 60_000;
/** The RFC 9728 document's path-inserted location on the stubs. */
const DOCUMENT = '/.well-known/oauth-protected-resource/mcp';

/** A clock the test moves. */
const testClock = () => {
  const clock = { t: Date.now(), now: () => clock.t };
  return clock;
};

/** How often `up`'s RFC 9728 document was asked for at its path-inserted location. */
const discoveries = (up: OAuthUpstream) => up.hits.filter((p) => p === DOCUMENT).length;

/** The JSON-RPC code of an MCP session's failure (`connected`: none). */
const codeOf = (result: unknown) => (result instanceof McpError ? result.code : result);

describe('upstream sign-in notices an authorization server migration without a restart', () => {
  it('the discovery is kept for an hour: then the move is noticed, the user is asked to connect again, nothing of the old server reaches the new one, and connecting again signs in there', async () => {
    const { rs, next } = await upstreamThatMoves();
    const clock = testClock();
    const store = new MemoryStore();
    const lines: Record<string, unknown>[] = [];
    const { gw, url } = await instance(rs, store, { lines, now: clock.now });
    for (const service of ['remote', 'hand'])
      expect((await connectThrough(gw, 'alice', service)).status).toBe(303);
    expect(await mcpOf(gw, url, 'alice', 'remote')).toBe('connected');
    const seen = discoveries(rs);
    const atA = rs.tokenRequests.length;

    move(rs, next);
    // Half an hour on: the discovery is still in use, nobody asks the upstream again.
    clock.t += 30 * MINUTE;
    expect(await mcpOf(gw, url, 'alice', 'remote')).toBe('connected');
    expect(discoveries(rs)).toBe(seen);

    // Past the hour (the access tokens are due too): the refresh discovers again first.
    clock.t += 31 * MINUTE;
    expect(codeOf(await mcpOf(gw, url, 'alice', 'remote'))).toBe(-32042);
    expect(codeOf(await mcpOf(gw, url, 'alice', 'hand'))).toBe(-32042);
    expect(discoveries(rs)).toBe(seen + 2); // once per service
    // A's refresh tokens, A's registration and the configured client's secret went nowhere.
    expect(rs.tokenRequests).toHaveLength(atA);
    expect(signInHits(next)).toEqual([]);
    expect(next.tokenRequests).toEqual([]);
    expect(await stored(store, 'remote', 'alice')).toBeUndefined();
    expect(await stored(store, 'hand', 'alice')).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'upstream authorization server changed; the user must connect again',
        service: 'remote',
        user: 'local:alice',
      }),
    );

    // Connecting again signs in at B with a registration of its own; the calls go through.
    expect((await connectThrough(gw, 'alice', 'remote')).status).toBe(303);
    expect(next.tokenRequests).toEqual([
      expect.objectContaining({
        grantType: 'authorization_code',
        clientId: expect.stringMatching(/^B-client-/),
      }),
    ]);
    expect(await mcpOf(gw, url, 'alice', 'remote')).toBe('connected');
    // The client configured by hand belongs to A: connecting it is refused, its secret stays here.
    expect((await connectPage(gw, await browserOf(gw, 'alice'), 'hand')).status).toBe(502);
    expect(next.tokenRequests.map((r) => r.clientSecret)).not.toContain(HAND.clientSecret);
    expect(rs.tokenRequests).toHaveLength(atA);
  });

  it('a 401 whose challenge names another RFC 9728 document than the one in use is noticed at once, well within the hour', async () => {
    const { rs, next } = await upstreamThatMoves();
    const clock = testClock();
    const store = new MemoryStore();
    const { gw, url } = await instance(rs, store, { now: clock.now });
    expect((await connectThrough(gw, 'alice', 'remote')).status).toBe(303);
    expect(await mcpOf(gw, url, 'alice', 'remote')).toBe('connected');
    const atA = rs.tokenRequests.length;

    // The upstream moves to B and publishes its document elsewhere; its MCP endpoint refuses A's tokens.
    move(rs, next);
    rs.resourceMetadataAt = ['challenge'];
    rs.issued.clear();
    clock.t += MINUTE;
    expect(codeOf(await mcpOf(gw, url, 'alice', 'remote'))).toBe(-32042);
    expect(rs.hits).toContain('/meta/resource.json');
    expect(rs.tokenRequests).toHaveLength(atA);
    expect(signInHits(next)).toEqual([]);
    expect(await stored(store, 'remote', 'alice')).toBeUndefined();
  });

  it('a token endpoint that is gone makes the refresh discover again: a move is said as one, and the new server is sent nothing', async () => {
    const rs = await stubUpstream('RS');
    const one = await stubUpstream('ONE');
    const two = await stubUpstream('TWO');
    rs.authorizationServers = [one.issuer];
    rs.trusts = [one];
    one.expiresIn = 60;
    const clock = testClock();
    const store = new MemoryStore();
    const lines: Record<string, unknown>[] = [];
    const { gw, url } = await instance(rs, store, { lines, now: clock.now });
    expect((await connectThrough(gw, 'alice', 'remote')).status).toBe(303);
    expect(await mcpOf(gw, url, 'alice', 'remote')).toBe('connected');

    // ONE is taken down and the upstream names TWO; two minutes on, the access token is due.
    rs.authorizationServers = [two.issuer];
    rs.trusts = [two];
    one.gone = true;
    const tokenHits = one.hits.filter((p) => p === '/token').length;
    clock.t += 2 * MINUTE;
    expect(codeOf(await mcpOf(gw, url, 'alice', 'remote'))).toBe(-32042);
    expect(one.hits.filter((p) => p === '/token')).toHaveLength(tokenHits + 1);
    expect(signInHits(two)).toEqual([]);
    expect(await stored(store, 'remote', 'alice')).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'upstream authorization server changed; the user must connect again' }),
    );
  });
});

describe('upstream discovery is bounded', () => {
  /** The gateway's OAuth client of `up`, on `clock`. */
  const clientOf = (up: OAuthUpstream, clock: { now: () => number }) =>
    new UpstreamOAuthClient({
      service: 'remote',
      resource: up.resource,
      redirectUri: 'http://127.0.0.1:8080/account/upstream/callback/remote',
      clientName: 'mcp-gateway test',
      store: new MemoryStore(),
      box: new SecretBox(new Uint8Array(32).fill(5), 'upstream-tokens'),
      now: clock.now,
    });

  it('concurrent callers share one discovery, and challenges, expiry and failures start at most one per 30 s', async () => {
    const up = await stubUpstream('bounded');
    const clock = testClock();
    const c = clientOf(up, clock);
    const elsewhere = `${up.url}/elsewhere.json`;
    const ask = (n: number) => Promise.all(Array.from({ length: n }, () => c.authorizationServer()));
    await ask(10);
    expect(discoveries(up)).toBe(1);

    // Challenges naming another document, again and again within 30 s: nobody asks the upstream.
    for (let i = 0; i < 20; i++) {
      c.challenged(elsewhere);
      await ask(2);
      clock.t += 1000;
    }
    expect(discoveries(up)).toBe(1);
    clock.t += 10_000;
    c.challenged(elsewhere);
    await ask(10);
    expect(discoveries(up)).toBe(2);

    // The upstream stops answering: the previous discovery stays in use, asked again once per 30 s.
    up.resourceMetadataAt = [];
    clock.t += 30_000;
    c.challenged(elsewhere);
    for (let i = 0; i < 20; i++) expect((await ask(2))[0]!.issuer).toBe(up.issuer);
    expect(discoveries(up)).toBe(3);
    clock.t += 60 * MINUTE;
    for (let i = 0; i < 20; i++) await ask(2);
    expect(discoveries(up)).toBe(4);
    up.resourceMetadataAt = ['path'];
    clock.t += 30_000;
    await ask(2);
    expect(discoveries(up)).toBe(5);
  });

  it('a first discovery that fails is retried once per 30 s, not on every call', async () => {
    const up = await stubUpstream('down');
    up.resourceMetadataAt = [];
    const clock = testClock();
    const c = clientOf(up, clock);
    for (let i = 0; i < 10; i++)
      await expect(c.authorizationServer()).rejects.toThrow(/publishes no RFC 9728 document/);
    expect(discoveries(up)).toBe(1);
    up.resourceMetadataAt = ['path'];
    clock.t += 29_000;
    await expect(c.authorizationServer()).rejects.toThrow(/publishes no RFC 9728 document/);
    clock.t += 1000;
    expect((await c.authorizationServer()).issuer).toBe(up.issuer);
    expect(discoveries(up)).toBe(2);
  });

  it("the documents' shorter `Cache-Control: max-age` is honoured (never below 30 s)", async () => {
    const { rs, next } = await upstreamThatMoves();
    rs.cacheControl = 'public, max-age=120';
    next.cacheControl = 'no-cache, max-age=0';
    const clock = testClock();
    const c = clientOf(rs, clock);
    expect((await c.authorizationServer()).issuer).toBe(rs.issuer);
    move(rs, next);
    clock.t += 119_000;
    expect((await c.authorizationServer()).issuer).toBe(rs.issuer);
    clock.t += 1000;
    expect((await c.authorizationServer()).issuer).toBe(next.issuer);

    // B's metadata says max-age=0: asked again after 30 s.
    rs.authorizationServers = [rs.issuer];
    clock.t += 29_000;
    expect((await c.authorizationServer()).issuer).toBe(next.issuer);
    clock.t += 1000;
    expect((await c.authorizationServer()).issuer).toBe(rs.issuer);
  });
});
