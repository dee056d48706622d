import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/index.js';
import { startAs, type TestAs } from './helpers.js';

// tokens.issue: an operator's grant (e.g. `mcp-gateway token`), the same checks as /authorize
// without a browser, the consent recorded where the user can see and revoke it.

let t: TestAs;

beforeAll(async () => {
  t = await startAs({
    staticClients: [
      {
        client_id: 'ops-cli',
        client_name: 'Operator CLI',
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'none',
        scope: 'mcp:read',
      },
    ],
  });
});
afterAll(async () => {
  await t?.close();
});

const alice = { sub: 'local:alice', login: 'alice', name: 'Alice' };

describe('tokens.issue (operator grant)', () => {
  it("carries the user's groups into the token when the operator names them, and none otherwise", async () => {
    const verify = async (identity: typeof alice & { groups?: string[] }) => {
      const issued = await t.as.tokens.issue({ clientId: 'ops-cli', identity });
      return t.as.verifyAccessToken(issued.access_token, { resource: t.resource, scopes: [] });
    };
    expect((await verify({ ...alice, groups: ['ops', 'readers'] })).groups).toEqual(['ops', 'readers']);
    expect((await verify(alice)).groups).toBeUndefined();
  });

  it('issues an ordinary access token, records the consent in the user grant, and the user can revoke it', async () => {
    const issued = await t.as.tokens.issue({ clientId: 'ops-cli', identity: alice });
    expect(issued).toMatchObject({ token_type: 'Bearer', scope: 'mcp:read' });
    expect(issued).not.toHaveProperty('refresh_token');
    expect(issued.expires_in).toBeGreaterThan(0);
    const verified = await t.as.verifyAccessToken(issued.access_token, {
      resource: t.resource,
      scopes: ['mcp:read'],
    });
    expect(verified.sub).toBe('local:alice');
    expect(verified.clientId).toBe('ops-cli');

    const [grant, ...others] = await t.as.grants.list('local:alice');
    expect(others).toEqual([]);
    expect(grant).toMatchObject({ clientId: 'ops-cli', scopes: ['mcp:read'] });
    const types = t.audit.map((r) => r.type);
    expect(types).toContain('consent.given');
    expect(t.audit.find((r) => r.type === 'token.issued')).toMatchObject({
      clientId: 'ops-cli',
      sub: 'local:alice',
      source: 'operator',
      refresh: false,
    });
    // A token is never in the audit trail.
    expect(JSON.stringify(t.audit)).not.toContain(issued.access_token.slice(-20));

    expect(await t.as.grants.revoke(grant!.id)).toBe(true);
    await expect(
      t.as.verifyAccessToken(issued.access_token, { resource: t.resource, scopes: [] }),
    ).rejects.toMatchObject({ error: 'invalid_token' });
  });

  it.each([
    ['an unknown client', { clientId: 'nobody' }, 'invalid_client'],
    [
      'an unknown resource',
      { clientId: 'ops-cli', resource: 'https://elsewhere.example/mcp' },
      'invalid_target',
    ],
    [
      'a scope the client may not have',
      { clientId: 'ops-cli', scope: 'mcp:read mcp:write' },
      'invalid_scope',
    ],
  ])('refuses %s with %s, and records nothing', async (_what, input, error) => {
    const before = t.audit.length;
    const err = await t.as.tokens.issue({ identity: { sub: 'local:bob', login: 'bob' }, ...input }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).error).toBe(error);
    expect(await t.as.grants.list('local:bob')).toEqual([]);
    expect(t.audit.slice(before).map((r) => r.type)).toEqual([]);
  });
});
