import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerChallenge } from '../../src/index.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { issueAccessToken, localUsers, startAs, TEST_PASSWORD_COST, type TestAs } from './helpers.js';

/** MCP 2026-07-28 step-up (SEP-2350): the challenge names what to ask for, the AS grants the union. */
let t: TestAs;
let rs: Listening;
let writeResource: string;
beforeAll(async () => {
  rs = await listen(async (req) => {
    const check = await t.as.requireBearer({ resource: t.resource, scopes: ['mcp:write'] })(req);
    return check.ok ? Response.json({ scopes: check.token.scopes }) : check.response;
  });
  writeResource = `${rs.url}/mcp`;
  t = await startAs({
    resource: writeResource,
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
  });
});
afterAll(async () => {
  await rs?.close();
  await t?.close();
});

const call = (token: string) => fetch(writeResource, { headers: { authorization: `Bearer ${token}` } });
const challengedScope = (res: Response) =>
  /scope="([^"]*)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];

describe('sep-2350 step-up', () => {
  it("sep-2350: insufficient_scope challenges carry the token's scopes plus the required ones; the union is granted and passes", async () => {
    const narrow = await issueAccessToken(t, { scope: 'mcp:read' });
    const refused = await call(narrow.access_token);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
    const scope = challengedScope(refused);
    expect(scope).toBe('mcp:read mcp:write');

    // re-authorization with exactly the challenged set: /authorize and /token accept the union
    const stepped = await issueAccessToken(t, { scope: scope! });
    expect(stepped.scope).toBe('mcp:read mcp:write');
    const ok = await call(stepped.access_token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ scopes: ['mcp:read', 'mcp:write'] });
  });

  it('sep-2350: ForwardAuth /verify challenges with the accumulated scope too', async () => {
    const narrow = await issueAccessToken(t, { scope: 'mcp:read' });
    const r = new URL(writeResource);
    const res = await fetch(`${t.url}/verify?scope=mcp:write`, {
      headers: {
        'x-forwarded-proto': 'http',
        'x-forwarded-host': r.host,
        'x-forwarded-uri': r.pathname,
        authorization: `Bearer ${narrow.access_token}`,
      },
    });
    expect(res.status).toBe(403);
    expect(challengedScope(res)).toBe('mcp:read mcp:write');
  });

  it('sep-2207: offline_access is never part of a challenge', () => {
    expect(bearerChallenge({ scopes: ['mcp:read', 'offline_access'] })).toBe('Bearer scope="mcp:read"');
    expect(bearerChallenge({ scopes: ['offline_access'] })).toBe('Bearer');
  });
});
