import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySetError, RemoteJwks } from '../../src/clients/jwks.js';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/http/errors.js';

const jwk = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};

describe('remote key sets (jwks_uri): fetched safely, cached with bounds', () => {
  let srv: Listening;
  const hits: string[] = [];
  beforeAll(async () => {
    srv = await listen((req) => {
      const path = new URL(req.url).pathname;
      hits.push(path);
      if (path === '/big') return Response.json({ keys: [{ ...jwk, pad: 'x'.repeat(5000) }] });
      if (path === '/private') return Response.json({ keys: [{ ...jwk, d: 'secret' }] });
      return Response.json({ keys: [jwk] });
    });
  });
  afterAll(() => srv.close());

  const make = (clock: ManualClock, over: Partial<ConstructorParameters<typeof RemoteJwks>[0]> = {}) =>
    new RemoteJwks(
      {
        allowLoopback: true,
        allowPrivate: false,
        timeoutMs: 2000,
        maxBytes: 4096,
        cacheMs: 60_000,
        refetchCooldownMs: 10_000,
        maxEntries: 2,
        ...over,
      },
      clock,
      silentLogger,
    );

  it('a fresh key set is served from the cache; after cacheMs it is fetched again', async () => {
    const clock = new ManualClock(1_000_000);
    const keys = make(clock);
    hits.length = 0;
    await keys.get(`${srv.url}/a`);
    await keys.get(`${srv.url}/a`);
    expect(hits).toEqual(['/a']);
    clock.advance(60_001);
    await keys.get(`${srv.url}/a`);
    expect(hits).toEqual(['/a', '/a']);
  });

  it('an unknown kid re-fetches at most once per cooldown', async () => {
    const clock = new ManualClock(1_000_000);
    const keys = make(clock);
    hits.length = 0;
    await keys.get(`${srv.url}/b`);
    await keys.get(`${srv.url}/b`, { refresh: true });
    expect(hits).toEqual(['/b']);
    clock.advance(10_001);
    await keys.get(`${srv.url}/b`, { refresh: true });
    expect(hits).toEqual(['/b', '/b']);
  });

  it('bound: at most maxEntries key sets are held (oldest dropped)', async () => {
    const keys = make(new ManualClock(1_000_000));
    for (const p of ['/1', '/2', '/3']) await keys.get(`${srv.url}${p}`);
    expect(keys.size).toBe(2);
  });

  it('bound: a document over maxBytes, private keys, and loopback when not allowed are refused', async () => {
    const clock = new ManualClock(1_000_000);
    await expect(make(clock).get(`${srv.url}/big`)).rejects.toThrow(KeySetError);
    await expect(make(clock).get(`${srv.url}/private`)).rejects.toThrow(/public keys/);
    await expect(make(clock, { allowLoopback: false }).get(`${srv.url}/c`)).rejects.toThrow(/non-public/);
  });
});
