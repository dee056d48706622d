import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { localIdentityProvider, type LocalIdentityProviderOptions } from '../../src/idp/local.js';
import { hashPassword, verifyPassword } from '../../src/idp/password.js';
import { MemoryStore } from '../../src/store/keyv.js';
import { OVERFLOW_BUCKETS } from '../../src/idp/login-throttle.js';
import { testServer } from '../helpers/server.js';
import { hiddenFields, loopbackError, TEST_PASSWORD_COST } from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';
const PASSWORD = 'correct horse battery staple';

/** A memory store that remembers every key written, to prove a refused request wrote nothing. */
class RecordingStore extends MemoryStore {
  readonly writes: string[] = [];
  override set(key: string, value: unknown, ttlMs?: number) {
    this.writes.push(key);
    return super.set(key, value, ttlMs);
  }
  override increment(key: string, ttlMs: number) {
    this.writes.push(key);
    return super.increment(key, ttlMs);
  }
  override delete(key: string) {
    this.writes.push(key);
    return super.delete(key);
  }
}

let aliceHash: string;
beforeAll(async () => {
  aliceHash = await hashPassword(PASSWORD, TEST_PASSWORD_COST);
});

type Env = ReturnType<typeof testServer> & { clientId: string; store: RecordingStore };

async function setup(idp: Partial<LocalIdentityProviderOptions> = {}): Promise<Env> {
  const store = new RecordingStore();
  const env = testServer({
    store,
    identityProvider: localIdentityProvider({
      users: [{ username: 'alice', passwordHash: aliceHash }],
      passwordCost: TEST_PASSWORD_COST,
      ...idp,
    }),
    // Per-source limits off: these tests are about the per-account rules.
    rateLimits: { login: false, authorize: false },
  });
  const reg = await env.server.clients.register({
    redirect_uris: [REDIRECT],
    client_name: 'Login test',
    token_endpoint_auth_method: 'none',
  });
  return { ...env, store, clientId: reg.client.client_id };
}

interface Flow {
  cookie: string;
  fields: Record<string, string>;
}

/** `/authorize` then the sign-in form, in one browser (its cookie, or a new one). */
async function startFlow(env: Env, cookie?: string): Promise<Flow> {
  const q = new URLSearchParams({
    client_id: env.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state: 'client-state',
    code_challenge: 'c'.repeat(43),
    code_challenge_method: 'S256',
  });
  const res = await env.call(`/authorize?${q}`, { headers: cookie ? { cookie } : {} });
  expect(res.status).toBe(302);
  const jar = cookie ?? res.headers.getSetCookie()[0]!.split(';')[0]!;
  const login = new URL(res.headers.get('location')!);
  const page = await env.call(`${login.pathname}${login.search}`, { headers: { cookie: jar } });
  expect(page.status).toBe(200);
  return { cookie: jar, fields: hiddenFields(await page.text()) };
}

function postLogin(
  env: Env,
  flow: Flow,
  username: string,
  password: string,
  opts: { headers?: Record<string, string>; fields?: Record<string, string>; from?: string } = {},
): Promise<Response> {
  return env.call(
    '/login',
    {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: flow.cookie,
        'sec-fetch-site': 'same-origin',
        origin: 'https://as.example.com',
        ...opts.headers,
      },
      body: new URLSearchParams({ ...flow.fields, username, password, ...opts.fields }),
    },
    opts.from,
  );
}

/** Follows the sign-in redirect to `/callback` in the browser holding `cookie`. */
function callback(env: Env, location: string, cookie: string, state?: string): Promise<Response> {
  const u = new URL(location);
  if (state) u.searchParams.set('state', state);
  return env.call(`${u.pathname}${u.search}`, { headers: { cookie } });
}

describe('local sign-in: CSRF and one-time code binding', () => {
  it.each([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: 'https://sub.as.example.com' }],
    ['a foreign Origin (no Sec-Fetch-Site)', { 'sec-fetch-site': '', origin: 'https://evil.example' }],
  ])(
    'login csrf: a POST /login with %s is refused with a 403 page and writes nothing',
    async (_what, headers) => {
      const env = await setup();
      const flow = await startFlow(env);
      const h: Record<string, string> = { ...headers };
      if (h['sec-fetch-site'] === '') delete h['sec-fetch-site'];
      const before = env.store.writes.length;
      const res = await env.call('/login', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: flow.cookie,
          ...h,
        },
        body: new URLSearchParams({ ...flow.fields, username: 'alice', password: PASSWORD }),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('can only be sent from this site');
      expect(env.store.writes.slice(before)).toEqual([]);
      expect(env.audit.filter((a) => a.type === 'login.failed')).toEqual([]);
    },
  );

  it('login csrf: a POST /login without the form token, or with the token of another browser, is refused (403) and writes nothing', async () => {
    const env = await setup();
    const flow = await startFlow(env);
    const other = await startFlow(env);
    const before = env.store.writes.length;
    const missing = await postLogin(env, flow, 'alice', PASSWORD, { fields: { csrf: '' } });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('does not belong to this browser session');
    // The right state with another browser's token (its own form) does not pass either.
    const swapped = await postLogin(env, flow, 'alice', PASSWORD, { fields: { csrf: other.fields.csrf! } });
    expect(swapped.status).toBe(403);
    // Nor the right fields without the browser's cookie.
    const cookieless = await postLogin({ ...env }, { ...flow, cookie: '' }, 'alice', PASSWORD);
    expect(cookieless.status).toBe(403);
    expect(env.store.writes.slice(before)).toEqual([]);
  });

  it('login code binding: a sign-in code from flow A does not complete flow B (same browser)', async () => {
    const env = await setup();
    const a = await startFlow(env);
    const b = await startFlow(env, a.cookie);
    const signedIn = await postLogin(env, a, 'alice', PASSWORD);
    expect(signedIn.status).toBe(303);
    const res = await callback(env, signedIn.headers.get('location')!, a.cookie, b.fields.state);
    // Flow B exists and belongs to this browser, so the error goes back to the (self-registered)
    // client: at once, its redirect URI being a loopback IP literal (RFC 8252 §7.3).
    expect(loopbackError(res, REDIRECT).get('error')).toBe('server_error');
  });

  it('login code binding: a sign-in code does not complete a flow in another browser', async () => {
    const env = await setup();
    const mine = await startFlow(env);
    const theirs = await startFlow(env);
    const signedIn = await postLogin(env, mine, 'alice', PASSWORD);
    // The other browser's own flow, with the code minted in the first browser.
    const res = await callback(env, signedIn.headers.get('location')!, theirs.cookie, theirs.fields.state);
    expect(loopbackError(res, REDIRECT).get('error')).toBe('server_error');
  });

  it('login code binding: the code completes its own flow in its own browser (consent page)', async () => {
    const env = await setup();
    const flow = await startFlow(env);
    const signedIn = await postLogin(env, flow, 'alice', PASSWORD);
    const res = await callback(env, signedIn.headers.get('location')!, flow.cookie);
    // The callback parks the consent and sends the browser to the reloadable consent page.
    expect(res.status).toBe(303);
    const consentUrl = new URL(res.headers.get('location')!);
    expect(consentUrl.pathname).toBe('/consent');
    const page = await env.call(`${consentUrl.pathname}${consentUrl.search}`, {
      headers: { cookie: flow.cookie },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="approve"');
  });
});

describe('local sign-in: per-account backoff', () => {
  const locked = /Too many failed sign-in attempts for this account\. Try again in (\d+) s\./;

  it('login throttle: after 5 failures an account backs off 5 s, doubling per failure, capped at 15 min; every backoff expires', async () => {
    const env = await setup();
    const flow = await startFlow(env);
    for (let i = 0; i < 5; i++) expect((await postLogin(env, flow, 'alice', 'wrong')).status).toBe(401);
    // Locked for 5 s: even the right password is not checked.
    const lockedRes = await postLogin(env, flow, 'alice', PASSWORD);
    expect(lockedRes.status).toBe(429);
    expect(lockedRes.headers.get('retry-after')).toBe('5');
    expect(await lockedRes.text()).toMatch(locked);
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const wait = Number((await postLogin(env, flow, 'alice', 'wrong')).headers.get('retry-after'));
      delays.push(wait);
      env.clock.advance(wait * 1000);
      expect((await postLogin(env, flow, 'alice', 'wrong')).status).toBe(401);
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 900, 900]);
    // The backoff runs out: the real user gets in.
    env.clock.advance(900_000);
    expect((await postLogin(env, flow, 'alice', PASSWORD)).status).toBe(303);
  });

  it('login throttle: counts per account across source addresses, and a success from any address resets it', async () => {
    const env = await setup();
    const flow = await startFlow(env);
    for (let i = 0; i < 4; i++) await postLogin(env, flow, 'alice', 'wrong', { from: `198.51.100.${i + 1}` });
    expect((await postLogin(env, flow, 'alice', PASSWORD, { from: '203.0.113.50' })).status).toBe(303);
    // The count started over: four more failures are free again.
    const again = await startFlow(env, flow.cookie);
    for (let i = 0; i < 4; i++)
      expect((await postLogin(env, again, 'alice', 'wrong', { from: '198.51.100.9' })).status).toBe(401);
    expect((await postLogin(env, again, 'alice', PASSWORD, { from: '198.51.100.9' })).status).toBe(303);
  });

  it('login throttle: unknown accounts fail exactly like known ones (same statuses, messages and backoff)', async () => {
    const env = await setup();
    const flow = await startFlow(env);
    const run = async (username: string) => {
      const out: string[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await postLogin(env, flow, username, 'wrong');
        const text = (await res.text()).replaceAll(username, 'NAME');
        const message = /<p class="error" id="message">([^<]*)<\/p>/.exec(text)?.[1];
        out.push(`${res.status} ${res.headers.get('retry-after') ?? '-'} ${message}`);
      }
      return out;
    };
    const known = await run('alice');
    const unknown = await run('nobody-here');
    expect(unknown).toEqual(known);
    expect(known.slice(4)).toEqual([
      '401 - Wrong user name or password.',
      '429 5 Too many failed sign-in attempts for this account. Try again in 5 s.',
      '429 5 Too many failed sign-in attempts for this account. Try again in 5 s.',
    ]);
  });

  it('login throttle cap: beyond throttle.maxUnknownNames made-up names share bounded counters; accounts keep their own', async () => {
    const env = await setup({ throttle: { maxUnknownNames: 3 } });
    const flow = await startFlow(env);
    const failCounters = () => new Set(env.store.writes.filter((k) => k.startsWith('login-fail:'))).size;
    // From many sources (20 sign-ins per source and minute), 600 made-up names fail once each.
    const from = (i: number) => `10.0.${Math.floor(i / 20)}.1`;
    for (let i = 0; i < 600; i++) {
      const res = await postLogin(env, flow, `made-up-${i}`, 'wrong', { from: from(i) });
      // 401, or 429 once a shared bucket collected 5 failures.
      expect([401, 429]).toContain(res.status);
    }
    // Three names of their own, the rest in the shared buckets: bounded, whatever the number of names.
    expect(failCounters()).toBeLessThanOrEqual(3 + OVERFLOW_BUCKETS);
    expect(failCounters()).toBeGreaterThan(3);
  });

  it('login throttle cap: a locked shared bucket neither locks out an account that hashes into it nor frees a targeted account', async () => {
    const env = await setup({ throttle: { maxUnknownNames: 1 } });
    const flow = await startFlow(env);
    // One made-up name fills the room for names of their own.
    expect((await postLogin(env, flow, 'filler', 'wrong', { from: '192.0.2.9' })).status).toBe(401);
    // A made-up name in the same bucket as alice is locked after 5 failures (throttling still holds)...
    const bucket = (name: string) =>
      createHash('sha256').update(name).digest().readUInt32BE(0) % OVERFLOW_BUCKETS;
    let twin = 0;
    while (bucket(`twin-${twin}`) !== bucket('alice')) twin++;
    for (let i = 0; i < 5; i++)
      expect((await postLogin(env, flow, `twin-${twin}`, 'wrong', { from: '192.0.2.1' })).status).toBe(401);
    const twinLocked = await postLogin(env, flow, `twin-${twin}`, 'wrong', { from: '192.0.2.1' });
    expect(twinLocked.status).toBe(429);
    expect(twinLocked.headers.get('retry-after')).toBe('5');
    // ...but alice, an account, has her own counter: not locked out by the flood,
    expect((await postLogin(env, flow, 'alice', PASSWORD, { from: '192.0.2.2' })).status).toBe(303);
    // and a targeted guesser is throttled on her account as before the flood.
    const again = await startFlow(env, flow.cookie);
    for (let i = 0; i < 5; i++)
      expect((await postLogin(env, again, 'alice', 'wrong', { from: '192.0.2.3' })).status).toBe(401);
    const aliceLocked = await postLogin(env, again, 'alice', PASSWORD, { from: '192.0.2.4' });
    expect(aliceLocked.status).toBe(429);
    expect(aliceLocked.headers.get('retry-after')).toBe('5');
  });

  it('login throttle: once a backoff runs out, parallel guesses get one attempt, the rest wait', async () => {
    const env = await setup();
    const flow = await startFlow(env);
    for (let i = 0; i < 5; i++) await postLogin(env, flow, 'alice', 'wrong');
    env.clock.advance(5_000);
    const statuses = await Promise.all(
      Array.from({ length: 6 }, () => postLogin(env, flow, 'alice', 'wrong').then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });
});

describe('local sign-in: password hashes are upgraded at the next successful sign-in', () => {
  it('password upgrade: an old-parameter hash verifies, is re-hashed with the configured cost and reported once', async () => {
    const old = await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 });
    const upgrades: { username: string; passwordHash: string; previousHash: string }[] = [];
    const env = await setup({
      users: [{ username: 'alice', passwordHash: old }],
      passwordCost: { N: 2048, r: 8, p: 1 },
      onPasswordUpgrade: (username, passwordHash, previousHash) =>
        void upgrades.push({ username, passwordHash, previousHash }),
    });
    const flow = await startFlow(env);
    expect((await postLogin(env, flow, 'alice', PASSWORD)).status).toBe(303);
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]!.username).toBe('alice');
    expect(upgrades[0]!.previousHash).toBe(old);
    expect(upgrades[0]!.passwordHash).toMatch(/^scrypt\$2048\$8\$1\$/);
    expect(await verifyPassword(PASSWORD, upgrades[0]!.passwordHash)).toBe(true);
    // The provider uses the new hash from now on: no second upgrade.
    const next = await startFlow(env, flow.cookie);
    expect((await postLogin(env, next, 'alice', PASSWORD)).status).toBe(303);
    expect(upgrades).toHaveLength(1);
  });

  it('password upgrade: a failed upgrade hook does not fail the sign-in', async () => {
    const env = await setup({
      users: [{ username: 'alice', passwordHash: await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }) }],
      passwordCost: { N: 2048, r: 8, p: 1 },
      onPasswordUpgrade: () => {
        throw new Error('store is read-only');
      },
    });
    expect((await postLogin(env, await startFlow(env), 'alice', PASSWORD)).status).toBe(303);
  });
});

describe('local sign-in: users looked up by name (findUser)', () => {
  it('findUser: each sign-in looks up one name, and a user removed after an upgraded sign-in can no longer sign in', async () => {
    const stored = new Map([
      ['bob', { username: 'Bob', passwordHash: await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }) }],
    ]);
    const lookups: string[] = [];
    const env = await setup({
      users: [],
      findUser: async (name) => {
        lookups.push(name);
        return stored.get(name);
      },
      passwordCost: { N: 2048, r: 8, p: 1 },
      onPasswordUpgrade: (username, passwordHash) => {
        stored.set(username.toLowerCase(), { ...stored.get(username.toLowerCase())!, passwordHash });
      },
    });
    const flow = await startFlow(env);
    expect((await postLogin(env, flow, 'BOB', PASSWORD)).status).toBe(303);
    expect(lookups).toEqual(['bob']);
    expect(stored.get('bob')!.passwordHash).toMatch(/^scrypt\$2048\$/);
    stored.delete('bob');
    const again = await startFlow(env, flow.cookie);
    expect((await postLogin(env, again, 'bob', PASSWORD)).status).toBe(401);
  });
});
