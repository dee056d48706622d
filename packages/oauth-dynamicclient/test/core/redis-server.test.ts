import { startRedis, type RedisServer } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthorizationServer,
  ManualClock,
  silentLogger,
  type AuthorizationServer,
} from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { json, nativeClient } from '../helpers/server.js';

let redis: RedisServer;
const open: AuthorizationServer[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const s of open) await s.close().catch(() => {});
  await redis?.stop();
});

let ns = 0;
/** One server instance; all instances share a clock that sits at the start of a rate-limit window. */
const clock = new ManualClock(1_800_000_000_000);
function instance(namespace: string): AuthorizationServer {
  const server = createAuthorizationServer({
    issuer: 'https://as.example.com',
    clock,
    store: new RedisStore({ url: redis.url, namespace, clock }),
    logger: silentLogger,
    rateLimits: { register: { limit: 5, windowMs: 60_000 } },
  });
  open.push(server);
  return server;
}
const call = (s: AuthorizationServer, path: string, init?: RequestInit, remoteAddress = '198.51.100.9') =>
  s.fetch(new Request(`https://as.example.com${path}`, init), { remoteAddress });

describe('Redis-backed server', () => {
  it('a restarted server finds every client, secret and registration token intact', async () => {
    const namespace = `restart-${++ns}`;
    const first = instance(namespace);
    const regs = [];
    for (const m of [nativeClient, { redirect_uris: ['https://app.example/cb'], client_name: 'Conf' }]) {
      regs.push((await (await call(first, '/register', json(m))).json()) as Record<string, string>);
    }
    await first.close();

    const second = instance(namespace);
    expect((await second.clients.list()).sort()).toEqual(regs.map((r) => r.client_id).sort());
    for (const r of regs) {
      const res = await call(second, `/register/${r.client_id}`, {
        headers: { authorization: `Bearer ${r.registration_access_token}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { client_id: string }).client_id).toBe(r.client_id);
    }
    const conf = await second.clients.get(regs[1]!.client_id!);
    expect(await second.context.clients.verifyClientSecret(conf!, regs[1]!.client_secret!)).toBe(true);
  });

  it("two instances on one Redis see each other's registrations, updates and deletions", async () => {
    const namespace = `pair-${++ns}`;
    const a = instance(namespace);
    const b = instance(namespace);
    const reg = (await (await call(a, '/register', json(nativeClient))).json()) as Record<string, string>;
    const auth = { authorization: `Bearer ${reg.registration_access_token}` };
    expect((await call(b, `/register/${reg.client_id}`, { headers: auth })).status).toBe(200);

    const put = await call(b, `/register/${reg.client_id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ ...nativeClient, client_id: reg.client_id, client_name: 'Renamed' }),
    });
    const rotated = (await put.json()) as Record<string, string>;
    expect((await a.clients.get(reg.client_id!))?.metadata.client_name).toBe('Renamed');
    expect((await call(a, `/register/${reg.client_id}`, { headers: auth })).status).toBe(401);

    const del = await call(a, `/register/${reg.client_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${rotated.registration_access_token}` },
    });
    expect(del.status).toBe(204);
    expect(await b.clients.get(reg.client_id!)).toBeUndefined();
  });

  it('the registration rate limit is shared across instances', async () => {
    const namespace = `rl-${++ns}`;
    const a = instance(namespace);
    const b = instance(namespace);
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await call(i % 2 ? a : b, '/register', json(nativeClient), '192.0.2.77')).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.at(-1)).toBe(429);
  });
});
