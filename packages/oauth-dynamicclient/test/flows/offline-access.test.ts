import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localIdentityProvider } from '../../src/idp/local.js';
import { issueAccessToken, localUsers, startStack, TEST_PASSWORD_COST, type TestStack } from './helpers.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const codeAndRefresh = ['authorization_code', 'refresh_token'];

let t: TestStack;
let as: oauth.AuthorizationServer;
beforeAll(async () => {
  t = await startStack({
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
  });
  const issuer = new URL(t.url);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
});
afterAll(() => t?.close());

/** The refresh grant for a public client, through oauth4webapi. */
async function refresh(clientId: string, refreshToken: string, scope?: string) {
  const client: oauth.Client = { client_id: clientId };
  return oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, {
      ...insecure,
      ...(scope ? { additionalParameters: { scope } } : {}),
    }),
  );
}

describe('sep-2207 offline_access', () => {
  it('sep-2207: the authorization server lists offline_access in scopes_supported; the protected resource and its challenge do not', async () => {
    expect(as.scopes_supported).toEqual(['mcp:read', 'mcp:write', 'offline_access']);
    const prm = (await (await fetch(`${t.rs.url}/.well-known/oauth-protected-resource/mcp`)).json()) as {
      scopes_supported: string[];
    };
    expect(prm.scopes_supported).not.toContain('offline_access');
    const challenge = (await fetch(t.resource)).headers.get('www-authenticate');
    expect(challenge).toContain('scope="mcp:read"');
    expect(challenge).not.toContain('offline_access');
  });

  it('sep-2207: a refresh-capable client that asks for offline_access gets a refresh token; the access token carries only resource scopes', async () => {
    const tokens = await issueAccessToken(t, {
      scope: 'mcp:read offline_access',
      grantTypes: codeAndRefresh,
    });
    expect(tokens.scope).toBe('mcp:read');
    expect(tokens.refresh_token).toBeTruthy();
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as {
      scope: string;
    };
    expect(claims.scope).toBe('mcp:read');
    // offline_access in the refresh request's scope narrows nothing and is not refused
    const refreshed = await refresh(tokens.client_id, tokens.refresh_token!, 'offline_access mcp:read');
    expect(refreshed.scope).toBe('mcp:read');
    expect(refreshed.refresh_token).toBeTruthy();
  });

  it('sep-2207: offline_access alone asks for the default scopes plus a refresh token', async () => {
    const tokens = await issueAccessToken(t, { scope: 'offline_access', grantTypes: codeAndRefresh });
    expect(tokens.scope).toBe('mcp:read mcp:write');
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('sep-2207: a refresh-capable client that does not ask for offline_access still gets a refresh token (existing clients keep working)', async () => {
    const tokens = await issueAccessToken(t, { scope: 'mcp:read', grantTypes: codeAndRefresh });
    expect(tokens.refresh_token).toBeTruthy();
    expect((await refresh(tokens.client_id, tokens.refresh_token!)).access_token).toBeTruthy();
  });

  it('sep-2207: a client without the refresh_token grant that asks for offline_access gets an access token and no refresh token', async () => {
    const tokens = await issueAccessToken(t, { scope: 'mcp:read offline_access' });
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.scope).toBe('mcp:read');
    expect(tokens).not.toHaveProperty('refresh_token');
  });
});
