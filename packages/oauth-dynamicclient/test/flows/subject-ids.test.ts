import { startGitHubStub, startOidcStub, type GitHubStub, type OidcStub } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcIdentityProvider } from '../../src/idp/oidc.js';
import { Browser, loopbackError, startAs, startGitHubAs, type TestAs } from './helpers.js';

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
  // The user approves this self-registered client before the third-party sign-in; a refusal
  // then redirects this loopback client at once (RFC 8252 §7.3), an admission issues the code.
  const r = await new Browser().followApproving(url, REDIRECT);
  expect(r.location, 'back at the client').toBeDefined();
  const code = r.location!.searchParams.get('code');
  if (code) return { code };
  return { error: loopbackError(r, REDIRECT).get('error')! };
}

const oidcAs = (op: OidcStub, allowedUsers?: string[]) =>
  startAs({
    identityProvider: oidcIdentityProvider({
      issuer: op.issuer,
      clientId: 'oidc-client',
      clientSecret: 'oidc-secret',
      ...(allowedUsers ? { allowedUsers } : {}),
    }),
  });

/** Signs in once per case, each on a fresh server, and expects a code or `access_denied`. */
async function expectAdmissions(cases: [label: unknown, start: () => Promise<TestAs>, admitted: boolean][]) {
  for (const [label, start, admitted] of cases) {
    const s = await start();
    try {
      const r = await signIn(s);
      expect([label, r.error ?? 'admitted']).toEqual([label, admitted ? 'admitted' : 'access_denied']);
    } finally {
      await s.close();
    }
  }
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

  it('oidc: the subject is issuer-qualified, oidc:<issuer>#<sub>, whatever preferred_username says', async () => {
    const s = await oidcAs(op);
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
    await expectAdmissions([
      [['admin'], () => oidcAs(op, ['admin']), false],
      [['kc-7'], () => oidcAs(op, ['kc-7']), true],
      [['qualified kc-7'], () => oidcAs(op, [`oidc:${op.issuer}#kc-7`]), true],
      [['eve@example.test'], () => oidcAs(op, ['eve@example.test']), true],
      [['octocat'], () => startGitHubAs(gh, { allowedUsers: ['octocat'] }), false],
      [['github:583231'], () => startGitHubAs(gh, { allowedUsers: ['github:583231'] }), true],
      [['583231'], () => startGitHubAs(gh, { allowedUsers: ['583231'] }), true],
      // An organisation by its numeric id (the stub numbers them from 1000), which a rename cannot move.
      [['org 1000'], () => startGitHubAs(gh, { allowedUsers: [], allowedOrgs: ['1000'] }), true],
    ]);
  });
});

describe('allow-list entries match one kind of value: ids as ids, logins as logins', () => {
  let gh: GitHubStub;
  let op: OidcStub;
  beforeAll(async () => {
    gh = await startGitHubStub({
      users: [
        // Mallory created an organisation whose login is the digits of the real organisation's id.
        { login: 'mallory', id: 7, orgs: ['123456789'] },
        { login: 'alice', id: 8, orgs: ['RealOrg'] },
        // An organisation whose login is all digits (not its id).
        { login: 'dave', id: 9, orgs: ['42'] },
      ],
      orgIds: { '123456789': 555, RealOrg: 123456789, '42': 4242 },
    });
    op = await startOidcStub({
      users: [
        { sub: 'AbC-7', preferredUsername: 'eve', email: 'Eve@Example.test' },
        { sub: 'abc-7', preferredUsername: 'mallory' },
      ],
      user: 'AbC-7',
    });
  });
  afterAll(async () => {
    await gh.close();
    await op.close();
  });

  it('github allowedOrgs: an all-digit entry matches only organisation ids, any other entry only logins', async () => {
    const asUser = (user: string, allowedOrgs: string[]) => () => {
      gh.user = user;
      return startGitHubAs(gh, { allowedOrgs });
    };
    await expectAdmissions([
      // The org whose *login* is the allowed id's digits (but whose id is 555) is refused…
      [['mallory', '123456789'], asUser('mallory', ['123456789']), false],
      // …while a member of the organisation with that id is admitted.
      [['alice', '123456789'], asUser('alice', ['123456789']), true],
      // A login entry admits by login, case-insensitively.
      [['alice', 'realorg'], asUser('alice', ['realorg']), true],
      [['mallory', 'realorg'], asUser('mallory', ['realorg']), false],
      // An all-digit entry is an id: it never matches an organisation whose login is those digits…
      [['dave', '42'], asUser('dave', ['42']), false],
      // …which is admitted by its id.
      [['dave', '4242'], asUser('dave', ['4242']), true],
      [['mallory', '*'], asUser('mallory', ['*']), true],
    ]);
  });

  it('oidc allowedUsers: sub and qualified subject match exactly (case-sensitively), a verified e-mail case-insensitively', async () => {
    const asUser = (user: string, allowedUsers: string[]) => () => {
      op.user = user;
      return oidcAs(op, allowedUsers);
    };
    await expectAdmissions([
      [['AbC-7', 'AbC-7'], asUser('AbC-7', ['AbC-7']), true],
      [['abc-7', 'AbC-7'], asUser('abc-7', ['AbC-7']), false],
      [['abc-7', 'qualified AbC-7'], asUser('abc-7', [`oidc:${op.issuer}#AbC-7`]), false],
      [['AbC-7', 'qualified AbC-7'], asUser('AbC-7', [`oidc:${op.issuer}#AbC-7`]), true],
      [['AbC-7', 'eve@example.test'], asUser('AbC-7', ['eve@example.test']), true],
      [['abc-7', 'eve@example.test'], asUser('abc-7', ['eve@example.test']), false],
    ]);
  });
});
