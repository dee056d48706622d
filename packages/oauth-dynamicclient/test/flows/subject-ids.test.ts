import { startGitHubStub, startOidcStub, type GitHubStub, type OidcStub } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubIdentityProvider } from '../../src/idp/github.js';
import { oidcIdentityProvider } from '../../src/idp/oidc.js';
import { Browser, completeLogin, startAs, type TestAs } from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';

async function authorizeUrl(t: TestAs): Promise<string> {
  const reg = await t.as.clients.register({
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    client_name: 'subject id test',
  });
  const url = new URL(`${t.url}/authorize`);
  url.search = new URLSearchParams({
    client_id: reg.client.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state: 'st-1',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
  }).toString();
  return url.href;
}

/** Signs in once; resolves with the callback's `code` or `error`. */
async function signIn(t: TestAs): Promise<{ code?: string; error?: string }> {
  const url = await authorizeUrl(t);
  const r = await new Browser().follow(url, REDIRECT);
  if (r.location?.searchParams.get('error')) return { error: r.location.searchParams.get('error')! };
  const cb = await completeLogin(new Browser(), url, REDIRECT);
  return { code: cb.searchParams.get('code')! };
}

describe('identity by immutable id: subjects and allow-lists of the upstream providers', () => {
  let op: OidcStub;
  let gh: GitHubStub;
  beforeAll(async () => {
    op = await startOidcStub({
      users: [{ sub: 'kc-7', preferredUsername: 'admin', email: 'eve@example.test', name: 'Eve' }],
      user: 'kc-7',
    });
    gh = await startGitHubStub({ users: [{ login: 'octocat', id: 583231, orgs: ['acme'] }] });
  });
  afterAll(async () => {
    await op.close();
    await gh.close();
  });

  const oidcAs = (allowedUsers?: string[]) =>
    startAs({
      identityProvider: oidcIdentityProvider({
        issuer: op.issuer,
        clientId: 'oidc-client',
        clientSecret: 'oidc-secret',
        ...(allowedUsers ? { allowedUsers } : {}),
      }),
    });
  const githubAs = (allowedUsers: string[], allowedOrgs?: string[]) =>
    startAs({
      identityProvider: githubIdentityProvider({
        clientId: 'gh-client',
        clientSecret: 'gh-secret',
        baseUrl: gh.url,
        apiUrl: gh.apiUrl,
        allowedUsers,
        ...(allowedOrgs ? { allowedOrgs } : {}),
      }),
    });

  it('oidc: the subject is issuer-qualified, oidc:<issuer>#<sub>, whatever preferred_username says', async () => {
    const s = await oidcAs();
    try {
      expect((await signIn(s)).code).toBeTruthy();
      const grants = await s.as.grants.list(`oidc:${op.issuer}#kc-7`);
      expect(grants).toHaveLength(1);
      expect(await s.as.grants.list('oidc:kc-7')).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it('allowedUsers: a login or preferred_username never admits; ids (and a verified e-mail) do', async () => {
    const cases: [(list: string[]) => Promise<TestAs>, string[], boolean][] = [
      [oidcAs, ['admin'], false],
      [oidcAs, ['kc-7'], true],
      [oidcAs, [`oidc:${op.issuer}#kc-7`], true],
      [oidcAs, ['eve@example.test'], true],
      [githubAs, ['octocat'], false],
      [githubAs, ['github:583231'], true],
      [githubAs, ['583231'], true],
      // An organisation by its numeric id (the stub numbers them from 1000), which a rename cannot move.
      [(l) => githubAs(l, ['1000']), [], true],
    ];
    for (const [start, list, admitted] of cases) {
      const s = await start(list);
      try {
        const r = await signIn(s);
        expect([list, r.error ?? 'admitted']).toEqual([list, admitted ? 'admitted' : 'access_denied']);
      } finally {
        await s.close();
      }
    }
  });
});
