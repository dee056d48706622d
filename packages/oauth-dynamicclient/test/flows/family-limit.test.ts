// tokens.maxFamiliesPerGrant: each authorization of one client by one user starts a token family
// living as long as its refresh token; past the bound the oldest family is revoked (its refresh
// token refused, its access tokens too), so a client authorizing again and again cannot pile up
// families and their store entries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localIdentityProvider } from '../../src/idp/local.js';
import { issueAccessToken, localUsers, startStack, TEST_PASSWORD_COST, type TestStack } from './helpers.js';

let t: TestStack;
beforeAll(async () => {
  t = await startStack({
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
    tokens: { maxFamiliesPerGrant: 2 },
  });
});
afterAll(() => t?.close());

const refresh = (clientId: string, refreshToken: string) =>
  fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
    }),
  });

const callResource = (accessToken: string) =>
  fetch(t.resource, { headers: { authorization: `Bearer ${accessToken}` } });

describe('tokens.maxFamiliesPerGrant', () => {
  it('past the bound the oldest family of the user and client is revoked; the newest keep working', async () => {
    const grantTypes = ['authorization_code', 'refresh_token'];
    const first = await issueAccessToken(t, { grantTypes });
    const clientId = first.client_id;
    const issued = [first];
    for (let i = 0; i < 3; i++) issued.push(await issueAccessToken(t, { grantTypes, clientId }));
    expect(issued.every((x) => typeof x.refresh_token === 'string')).toBe(true);

    // Families 1 and 2 were the oldest past the bound of 2: refused, access tokens included.
    for (const old of issued.slice(0, 2)) {
      const res = await refresh(clientId, old.refresh_token!);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
      expect((await callResource(old.access_token)).status).toBe(401);
    }
    for (const live of issued.slice(2)) {
      expect((await callResource(live.access_token)).status).toBe(200);
      const res = await refresh(clientId, live.refresh_token!);
      expect(res.status).toBe(200);
    }
    const revoked = t.audit.flatMap((a) => (a.type === 'token.revoked' ? [a.familyId] : []));
    expect(revoked).toHaveLength(2);
    expect(revoked.every((id) => typeof id === 'string')).toBe(true);
    // Another client of the same user has a bound of its own.
    const other = await issueAccessToken(t, { grantTypes });
    expect((await refresh(other.client_id, other.refresh_token!)).status).toBe(200);
    expect(t.audit.filter((a) => a.type === 'token.revoked')).toHaveLength(2);
  });
});
