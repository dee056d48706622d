import { startGitHubStub, startOidcStub, type GitHubStub } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localIdentityProvider } from '../../src/idp/local.js';
import { oidcIdentityProvider } from '../../src/idp/oidc.js';
import { MAX_GROUPS, MAX_GROUP_LENGTH } from '../../src/tokens/groups.js';
import {
  issueAccessToken,
  localUsers,
  startAs,
  startGitHubAs,
  TEST_PASSWORD_COST,
  type TestAs,
} from './helpers.js';

/** Signs in through the AS's provider and verifies the access token the code flow issued. */
async function groupsOfToken(
  t: TestAs,
): Promise<{ groups: string[] | undefined; refresh?: string; clientId: string }> {
  const tok = await issueAccessToken(t, { grantTypes: ['authorization_code', 'refresh_token'] });
  if (!tok.access_token) throw new Error(`no token: ${JSON.stringify(tok)}`);
  const verified = await t.as.verifyAccessToken(tok.access_token, { resource: t.resource });
  return {
    groups: verified.groups,
    ...(tok.refresh_token ? { refresh: tok.refresh_token } : {}),
    clientId: tok.client_id,
  };
}

async function withAs<T>(t: Promise<TestAs>, run: (t: TestAs) => Promise<T>): Promise<T> {
  const s = await t;
  try {
    return await run(s);
  } finally {
    await s.close();
  }
}

describe('groups: group memberships from the identity provider travel in the access token', () => {
  let gh: GitHubStub;
  beforeAll(async () => {
    gh = await startGitHubStub({
      users: [
        {
          login: 'octocat',
          id: 583231,
          orgs: ['acme', 'other'],
          teams: [{ id: 77, slug: 'platform', org: 'acme' }],
        },
      ],
      orgIds: { acme: 9919 },
    });
  });
  afterAll(() => gh.close());

  const githubAs = (groups: boolean) => startGitHubAs(gh, { allowedUsers: ['github:583231'], groups });

  it('github groups: org and team memberships by numeric id (github-org:<id>, github-team:<id>), asking for read:org', async () => {
    await withAs(githubAs(true), async (t) => {
      expect((await groupsOfToken(t)).groups).toEqual([
        'github-org:1001',
        'github-org:9919',
        'github-team:77',
      ]);
      const code = [...gh.codes.values()].at(-1)!;
      expect(code.scope.split(',')).toContain('read:org');
    });
  });

  it('github groups are opt-in: without `groups` no read:org, no /user/teams, no groups claim', async () => {
    const before = gh.requests.filter((r) => r.path === '/user/teams').length;
    await withAs(githubAs(false), async (t) => {
      expect((await groupsOfToken(t)).groups).toBeUndefined();
      expect([...gh.codes.values()].at(-1)!.scope).toBe('read:user');
      expect(gh.requests.filter((r) => r.path === '/user/teams').length).toBe(before);
    });
  });

  it('oidc groups: the `groups` claim of the ID token', async () => {
    const op = await startOidcStub({
      users: [{ sub: 'kc-1', groups: ['mcp-admins', 'staff'] }],
      user: 'kc-1',
    });
    try {
      const as = startAs({
        identityProvider: oidcIdentityProvider({
          issuer: op.issuer,
          clientId: 'oidc-client',
          clientSecret: 'oidc-secret',
        }),
      });
      await withAs(as, async (t) => expect((await groupsOfToken(t)).groups).toEqual(['mcp-admins', 'staff']));
    } finally {
      await op.close();
    }
  });

  it('oidc groupsClaim: a configured claim name; groupsFromUserinfo reads it from userinfo when the ID token lacks it', async () => {
    const op = await startOidcStub({
      users: [{ sub: 'kc-2', groups: ['g-1'] }],
      user: 'kc-2',
      groupsClaim: 'roles',
      groupsIn: 'userinfo',
    });
    try {
      const as = (groupsFromUserinfo: boolean) =>
        startAs({
          identityProvider: oidcIdentityProvider({
            issuer: op.issuer,
            clientId: 'oidc-client',
            clientSecret: 'oidc-secret',
            groupsClaim: 'roles',
            groupsFromUserinfo,
          }),
        });
      await withAs(as(false), async (t) => expect((await groupsOfToken(t)).groups).toBeUndefined());
      await withAs(as(true), async (t) => expect((await groupsOfToken(t)).groups).toEqual(['g-1']));
    } finally {
      await op.close();
    }
  });

  it('local groups: from the user entry; a refreshed token carries the same groups', async () => {
    const [alice] = await localUsers();
    const as = startAs({
      identityProvider: localIdentityProvider({
        users: [{ ...alice!, groups: ['ops', 'ops', 'dev'] }],
        passwordCost: TEST_PASSWORD_COST,
      }),
    });
    await withAs(as, async (t) => {
      const first = await groupsOfToken(t);
      expect(first.groups).toEqual(['dev', 'ops']);
      const res = await fetch(`${t.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: first.refresh!,
          client_id: first.clientId,
        }),
      });
      const body = (await res.json()) as { access_token: string };
      expect((await t.as.verifyAccessToken(body.access_token, { resource: t.resource })).groups).toEqual([
        'dev',
        'ops',
      ]);
    });
  });

  it(`groups claim is bounded: at most ${MAX_GROUPS} groups of at most ${MAX_GROUP_LENGTH} characters`, async () => {
    const [alice] = await localUsers();
    const many = Array.from({ length: MAX_GROUPS + 20 }, (_, i) => `g${String(i).padStart(4, '0')}`);
    const as = startAs({
      identityProvider: localIdentityProvider({
        users: [{ ...alice!, groups: [...many, 'x'.repeat(MAX_GROUP_LENGTH + 1)] }],
        passwordCost: TEST_PASSWORD_COST,
      }),
    });
    await withAs(as, async (t) => {
      const { groups } = await groupsOfToken(t);
      expect(groups).toEqual(many.slice(0, MAX_GROUPS));
    });
  });
});
