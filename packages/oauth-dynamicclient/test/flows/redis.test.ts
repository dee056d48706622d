import { killAllSpawned, listen, startRedis, type Listening, type RedisServer } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthorizationServer,
  ManualClock,
  silentLogger,
  type AuthorizationServer,
} from '../../src/index.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { RedisStore } from '../../src/store/redis.js';
import { Browser, completeLogin, localUsers, TEST_PASSWORD_COST } from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';

let redis: RedisServer;
const servers: { http: Listening; as: AuthorizationServer }[] = [];
let issuer = '';
let resource = '';
const clock = new ManualClock();

/** One instance of the AS on the shared Redis; every instance has the same issuer. */
async function instance(): Promise<{ url: string; as: AuthorizationServer }> {
  const late: { as?: AuthorizationServer } = {};
  const http = await listen((r) => late.as!.fetch(r, { remoteAddress: '127.0.0.1' }));
  issuer ||= http.url;
  resource ||= `${http.url}/mcp`;
  const as = (late.as = createAuthorizationServer({
    issuer,
    clock,
    store: new RedisStore({ url: redis.url, namespace: 'flows', clock }),
    resources: [{ resource, scopes: ['mcp:read'], default: true }],
    logger: silentLogger,
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
  }));
  await as.ready();
  servers.push({ http, as });
  return { url: http.url, as };
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const s of servers) {
    await s.http.close();
    await s.as.close();
  }
  await redis.stop();
  await killAllSpawned();
});

describe('refresh rotation on a real Redis shared by two instances', () => {
  it('concurrent refreshes of one token across instances all get the same successor; later reuse revokes the family', async () => {
    const a = await instance();
    const b = await instance();
    expect((await a.as.keys.jwks()).keys).toEqual((await b.as.keys.jwks()).keys);
    const reg = await a.as.clients.register({
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    const clientId = reg.client.client_id;
    const verifier = 'x'.repeat(43);
    const challenge = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
    ).toString('base64url');
    const auth = new URL(`${issuer}/authorize`);
    auth.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const cb = await completeLogin(new Browser(), auth.href, REDIRECT);
    const post = (base: string, body: Record<string, string>) =>
      fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, ...body }),
      });
    const first = (await (
      await post(b.url, {
        grant_type: 'authorization_code',
        code: cb.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      })
    ).json()) as { refresh_token: string; access_token: string };
    expect(first.refresh_token).toBeTruthy();

    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(i % 2 ? a.url : b.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token }),
      ),
    );
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as {
      refresh_token?: string;
      error?: string;
    }[];
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(bodies.map((x) => x.refresh_token)).size).toBe(1);

    // The successor works on the other instance.
    const next = (await (
      await post(a.url, { grant_type: 'refresh_token', refresh_token: bodies[0]!.refresh_token! })
    ).json()) as {
      refresh_token: string;
      access_token: string;
    };
    expect(next.refresh_token).toBeTruthy();
    const verified = await b.as.verifyAccessToken(next.access_token, { resource });
    expect(verified.sub).toBe('local:alice');

    // Past the grace window, the first token comes back: the whole family is revoked on both instances.
    clock.advance(31_000);
    const reuse = await post(b.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(reuse.status).toBe(400);
    expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant');
    const latest = await post(a.url, { grant_type: 'refresh_token', refresh_token: next.refresh_token });
    expect(((await latest.json()) as { error: string }).error).toBe('invalid_grant');
    await expect(a.as.verifyAccessToken(next.access_token, { resource })).rejects.toMatchObject({
      reason: 'revoked',
    });
  });
});
