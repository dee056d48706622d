// Upstream sign-in, Authorization Server Binding (MCP 2026-07-28): the gateway's registration, a
// client configured by hand, each user's tokens and each sign-in in progress belong to one
// authorization server, and nothing of them is sent to another when the upstream's RFC 9728
// document starts naming another. Stub upstreams on 127.0.0.1: `rs` is the upstream MCP server and
// its first authorization server (A), `next` the authorization server it moves to (B). Two gateway
// instances on one store stand for a gateway before and after a restart (a fresh discovery).
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  HAND,
  instance,
  mcpOf,
  move,
  signInHits,
  stored,
  upstreamThatMoves,
} from './helpers/upstream-moves.js';
import {
  PAGES_ISSUER,
  browserOf,
  connectPage,
  connectThrough,
  openPage,
  upstreamRedirect,
} from './helpers/upstream-pages.js';

describe('upstream tokens are bound to the authorization server that issued them', () => {
  it('after the upstream moves to another authorization server, a restarted gateway never sends the old refresh token there: the user is asked to connect again, and can', async () => {
    const { rs, next } = await upstreamThatMoves();
    const store = new MemoryStore();
    const before = await instance(rs, store);
    rs.expiresIn = 1; // every access token is due for a refresh at once
    expect((await connectThrough(before.gw, 'alice', 'remote')).status).toBe(303);
    // Refreshed at A while A is the upstream's authorization server.
    expect(await mcpOf(before.gw, before.url, 'alice', 'remote')).toBe('connected');
    expect(rs.tokenRequests.map((r) => r.grantType)).toContain('refresh_token');
    const atA = rs.tokenRequests.length;

    // Scopes A challenged alice for, and one it refused: nothing to B.
    const scopesKey = 'gateway:upstream-challenged-scopes:remote local:alice';
    await store.set(scopesKey, { challenged: ['admin'], refused: [{ scope: 'audit', at: Date.now() }] });
    await before.gw.close(0); // a restart: the next instance discovers afresh
    move(rs, next);
    const lines: Record<string, unknown>[] = [];
    const after = await instance(rs, store, { lines });
    const err = await mcpOf(after.gw, after.url, 'alice', 'remote');
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32042);
    // B saw nothing: no registration, no token request (A's refresh token, A's client id).
    expect(signInHits(next)).toEqual([]);
    expect(next.tokenRequests).toEqual([]);
    expect(rs.tokenRequests).toHaveLength(atA);
    expect(await stored(store, 'remote', 'alice')).toBeUndefined();
    expect(await store.get(scopesKey)).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'upstream authorization server changed; the user must connect again',
        service: 'remote',
        user: 'local:alice',
      }),
    );

    // Connecting again signs in at B (a registration of its own there), and the calls go through.
    next.expiresIn = 3600;
    expect((await connectThrough(after.gw, 'alice', 'remote')).status).toBe(303);
    expect([...next.clients.keys()].filter((id) => id !== HAND.clientId)).toHaveLength(1);
    expect(await mcpOf(after.gw, after.url, 'alice', 'remote')).toBe('connected');
    expect(rs.tokenRequests).toHaveLength(atA);
  });

  it('disconnecting tokens of the old authorization server revokes nothing at the new one', async () => {
    const { rs, next } = await upstreamThatMoves();
    const store = new MemoryStore();
    const before = await instance(rs, store);
    expect((await connectThrough(before.gw, 'bob', 'remote')).status).toBe(303);
    await before.gw.close(0); // a restart: the next instance discovers afresh
    move(rs, next);
    const after = await instance(rs, store);
    const jar = await browserOf(after.gw, 'bob');
    const account = await openPage(after.gw, jar, `${PAGES_ISSUER}/account`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await account.text())![1]!;
    const res = jar.take(
      await after.gw.fetch(
        new Request(`${PAGES_ISSUER}/account/upstream/disconnect`, {
          method: 'POST',
          headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ service: 'remote', csrf }),
        }),
      ),
    );
    expect(res.status).toBe(303);
    expect(await stored(store, 'remote', 'bob')).toBeUndefined();
    expect(signInHits(next)).toEqual([]);
    expect(next.revoked).toEqual([]);
  });
});

describe('a client configured by hand is the client of one authorization server', () => {
  it('without `issuer`, it is bound to the first one used: after the upstream moves, neither its secret nor the old tokens reach the new one, and connecting is refused with a clear log line', async () => {
    const { rs, next } = await upstreamThatMoves();
    const store = new MemoryStore();
    const before = await instance(rs, store);
    rs.expiresIn = 1;
    expect((await connectThrough(before.gw, 'alice', 'hand')).status).toBe(303);
    expect(rs.tokenRequests.at(-1)).toMatchObject({
      clientId: HAND.clientId,
      clientSecret: HAND.clientSecret,
    });

    await before.gw.close(0); // a restart: the next instance discovers afresh
    move(rs, next);
    const lines: Record<string, unknown>[] = [];
    const after = await instance(rs, store, { lines });
    const err = await mcpOf(after.gw, after.url, 'alice', 'hand');
    expect((err as McpError).code).toBe(-32042);
    const connect = await connectPage(after.gw, await browserOf(after.gw, 'bob'), 'hand');
    expect(connect.status).toBe(502);
    expect(connect.headers.get('location')).toBeNull();
    expect(signInHits(next)).toEqual([]);
    expect(next.tokenRequests).toEqual([]);
    const refused = lines.find((l) => l.msg === 'upstream sign-in unavailable' && l.service === 'hand');
    expect(refused).toMatchObject({ level: 50 });
    expect(refused!.err).toBe(
      `the clientId configured for service "hand" belongs to ${rs.issuer}, but the upstream's is ${next.issuer} now`,
    );
  });

  it('with `issuer`, it is used with that authorization server only', async () => {
    const { rs, next } = await upstreamThatMoves();
    const { gw } = await instance(rs, new MemoryStore(), { hand: { ...HAND, issuer: next.issuer } });
    expect((await connectPage(gw, await browserOf(gw, 'alice'), 'hand')).status).toBe(502);
    move(rs, next);
    // The upstream names the configured one now: sign-in goes there (a fresh instance, a fresh discovery).
    const { gw: later } = await instance(rs, new MemoryStore(), { hand: { ...HAND, issuer: next.issuer } });
    expect((await connectThrough(later, 'alice', 'hand')).status).toBe(303);
    expect(next.tokenRequests.at(-1)).toMatchObject({
      clientId: HAND.clientId,
      grantType: 'authorization_code',
    });
    expect(signInHits(rs)).toEqual([]);
  });
});

describe('a sign-in in progress is bound to the authorization server it was started with', () => {
  it('the upstream moves between Connect and the callback: the callback is refused and no token request is sent anywhere', async () => {
    const { rs, next } = await upstreamThatMoves();
    const store = new MemoryStore();
    const before = await instance(rs, store);
    const jar = await browserOf(before.gw, 'alice');
    const toA = await connectPage(before.gw, jar, 'remote');
    expect(new URL(toA.headers.get('location')!).origin).toBe(rs.url);
    const answer = await upstreamRedirect(toA.headers.get('location')!);
    await before.gw.close(0); // a restart: the next instance discovers afresh
    move(rs, next);
    const after = await instance(rs, store);
    const res = await openPage(after.gw, jar, answer);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('id="as-changed"');
    expect(rs.tokenRequests).toEqual([]);
    expect(next.tokenRequests).toEqual([]);
    expect(signInHits(next)).toEqual([]);
    expect(await stored(store, 'remote', 'alice')).toBeUndefined();
  });

  it('the connect step travels sealed: a cookie the browser made up (state, verifier, service, user) completes nothing', async () => {
    const { rs } = await upstreamThatMoves();
    const { gw } = await instance(rs, new MemoryStore());
    // Alice starts a connect to learn how the gateway is registered; the code is then redeemed with a made-up step.
    const toA = new URL(
      (await connectPage(gw, await browserOf(gw, 'alice'), 'remote')).headers.get('location')!,
    );
    const verifier = 'v'.repeat(43);
    toA.searchParams.set('state', 'made-up-state');
    toA.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    const answer = await upstreamRedirect(toA.href);
    const tag = createHash('sha256').update('mcp-gateway upstream connect\0local:alice').digest('base64url');
    const jar = await browserOf(gw, 'alice');
    jar.set(
      'mcp-upstream',
      ['made-up-state', verifier, Buffer.from('remote').toString('base64url'), tag].join('.'),
    );
    const res = await openPage(gw, jar, answer);
    expect(res.status).toBe(400);
    expect(rs.tokenRequests).toEqual([]);
    expect(await stored(gw.store, 'remote', 'alice')).toBeUndefined();
  });
});
