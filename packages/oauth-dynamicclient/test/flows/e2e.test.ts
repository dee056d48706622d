import {
  auth,
  extractResourceMetadataUrl,
  type OAuthClientProvider,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { startGitHubStub, startOidcStub, type GitHubStub, type OidcStub } from '@mcp-gateway/testkit';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubIdentityProvider } from '../../src/idp/github.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { oidcIdentityProvider } from '../../src/idp/oidc.js';
import type { IdentityProvider } from '../../src/idp/types.js';
import {
  Browser,
  completeLogin,
  localUsers,
  startStack,
  type TestStack,
  TEST_PASSWORD_COST,
} from './helpers.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'http://127.0.0.1:7777/callback';

let github: GitHubStub;
let oidc: OidcStub;
beforeAll(async () => {
  github = await startGitHubStub({
    users: [{ login: 'octocat', id: 583231, name: 'The Octocat', email: 'o@example.test', orgs: ['acme'] }],
  });
  oidc = await startOidcStub({
    users: [{ sub: 'kc-1', name: 'Kim Cloak', preferredUsername: 'kim', email: 'kim@example.test' }],
  });
});
afterAll(async () => {
  await github.close();
  await oidc.close();
});

type IdpName = 'local' | 'github' | 'oidc';
const providers: Record<IdpName, () => Promise<{ idp: IdentityProvider; sub: string; login: string }>> = {
  local: async () => ({
    idp: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
    sub: 'local:alice',
    login: 'alice',
  }),
  github: async () => ({
    idp: githubIdentityProvider({
      clientId: 'gh-client',
      clientSecret: 'gh-secret',
      allowedOrgs: ['acme'],
      baseUrl: github.url,
      apiUrl: github.apiUrl,
    }),
    sub: 'github:583231',
    login: 'octocat',
  }),
  oidc: async () => ({
    idp: oidcIdentityProvider({ issuer: oidc.issuer, clientId: 'oidc-client', clientSecret: 'oidc-secret' }),
    sub: `oidc:${oidc.issuer}#kc-1`,
    login: 'kim',
  }),
};

async function unauthenticated(stack: TestStack): Promise<URL> {
  const res = await fetch(stack.resource);
  expect(res.status).toBe(401);
  const header = res.headers.get('www-authenticate')!;
  expect(header).toMatch(/^Bearer /);
  expect(header).not.toMatch(/error=/);
  return extractResourceMetadataUrl(res)!;
}

describe.each(['local', 'github', 'oidc'] as const)('end to end through the %s identity provider', (name) => {
  let stack: TestStack;
  let who: { sub: string; login: string };
  beforeAll(async () => {
    const p = await providers[name]();
    who = p;
    stack = await startStack({ identityProvider: p.idp });
  });
  afterAll(() => stack.close());

  it('oauth4webapi: 401 → discovery → registration → authorize → token → refresh → revoke', async () => {
    // 401 and RFC 9728 discovery
    const prmUrl = await unauthenticated(stack);
    const prm = (await (await fetch(prmUrl)).json()) as { resource: string; authorization_servers: string[] };
    expect(prm.resource).toBe(stack.resource);
    const issuer = new URL(prm.authorization_servers[0]!);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );

    // RFC 7591 registration
    const reg = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          redirect_uris: [REDIRECT],
          client_name: 'oauth4webapi e2e',
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        insecure,
      ),
    );
    const client: oauth.Client = { client_id: reg.client_id };
    const clientAuth = oauth.ClientSecretBasic(reg.client_secret as string);

    // authorize through the identity provider and consent
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'mcp:read mcp:write',
      state,
      resource: stack.resource,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const callback = await completeLogin(new Browser(), url.href, REDIRECT);
    const params = oauth.validateAuthResponse(as, client, callback, state);

    // token
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT, verifier, {
        ...insecure,
        additionalParameters: { resource: stack.resource },
      }),
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('mcp:read mcp:write');
    expect(tokens.refresh_token).toBeTruthy();
    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request(stack.resource, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      stack.resource,
      insecure,
    );
    expect(claims).toMatchObject({
      sub: who.sub,
      client_id: client.client_id,
      login: who.login,
      aud: stack.resource,
    });

    const ok = await fetch(stack.resource, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await ok.json()).toMatchObject({ sub: who.sub, login: who.login });

    // refresh (narrowed scope) rotates the refresh token
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, {
        ...insecure,
        additionalParameters: { scope: 'mcp:read' },
      }),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.scope).toBe('mcp:read');

    // revoke the refresh token: its family, access tokens included, is gone
    expect(
      (await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, insecure),
      )) as unknown,
    ).toBeUndefined();
    const after = await fetch(stack.resource, {
      headers: { authorization: `Bearer ${refreshed.access_token}` },
    });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure),
    );
    expect(introspected.active).toBe(false);
  });

  it('MCP SDK auth(): 401 → discovery → registration → authorize → token → refresh → revoke', async () => {
    const resourceMetadataUrl = await unauthenticated(stack);
    const browser = new Browser();
    let saved: {
      client?: OAuthClientInformationMixed;
      tokens?: OAuthTokens;
      verifier?: string;
      redirected?: URL;
    } = {};
    const provider: OAuthClientProvider = {
      get redirectUrl() {
        return REDIRECT;
      },
      get clientMetadata(): OAuthClientMetadata {
        return {
          redirect_uris: [REDIRECT],
          client_name: 'MCP SDK e2e',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          scope: 'mcp:read mcp:write',
        };
      },
      state: () => 'sdk-state',
      clientInformation: () => saved.client,
      saveClientInformation: (c) => void (saved.client = c),
      tokens: () => saved.tokens,
      saveTokens: (t) => void (saved.tokens = t),
      redirectToAuthorization: async (u) => {
        saved.redirected = await completeLogin(browser, u.href, REDIRECT);
      },
      saveCodeVerifier: (v) => void (saved.verifier = v),
      codeVerifier: () => saved.verifier!,
    };
    expect(await auth(provider, { serverUrl: stack.resource, resourceMetadataUrl })).toBe('REDIRECT');
    expect(saved.redirected!.searchParams.get('state')).toBe('sdk-state');
    expect(saved.redirected!.searchParams.get('iss')).toBe(stack.url);
    const code = saved.redirected!.searchParams.get('code')!;
    expect(
      await auth(provider, { serverUrl: stack.resource, resourceMetadataUrl, authorizationCode: code }),
    ).toBe('AUTHORIZED');
    const first = saved.tokens!;
    const ok = await fetch(stack.resource, { headers: { authorization: `Bearer ${first.access_token}` } });
    expect(await ok.json()).toMatchObject({ sub: who.sub });

    // With tokens saved, auth() refreshes.
    expect(await auth(provider, { serverUrl: stack.resource, resourceMetadataUrl })).toBe('AUTHORIZED');
    expect(saved.tokens!.refresh_token).not.toBe(first.refresh_token);
    expect(saved.tokens!.access_token).not.toBe(first.access_token);

    // Revoke the access token (public client: client_id only).
    const revoke = await fetch(`${stack.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: saved.tokens!.access_token,
        client_id: (saved.client as { client_id: string }).client_id,
      }),
    });
    expect(revoke.status).toBe(200);
    const denied = await fetch(stack.resource, {
      headers: { authorization: `Bearer ${saved.tokens!.access_token}` },
    });
    expect(denied.status).toBe(401);
    // Consent is remembered: a second authorization goes straight back with a code.
    saved = { client: saved.client };
    expect(await auth(provider, { serverUrl: stack.resource, resourceMetadataUrl })).toBe('REDIRECT');
    expect(saved.redirected!.searchParams.get('code')).toBeTruthy();
  });
});
