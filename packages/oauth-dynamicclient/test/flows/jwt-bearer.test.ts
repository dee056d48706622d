import { startEnterpriseIdpStub, type EnterpriseIdpStub } from '@mcp-gateway/testkit';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAs, type TestAs } from './helpers.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const insecure = { [oauth.allowInsecureRequests]: true };
const SECRET = 'mcp-app-secret-0123456789abcdef';

/** The MCP client's token exchange at the enterprise IdP (RFC 8693), as an app would do it. */
async function exchange(idp: EnterpriseIdpStub, params: Record<string, string>): Promise<string> {
  const res = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      client_id: 'idp-client',
      client_secret: 'idp-secret',
      ...params,
    }),
  });
  const body = (await res.json()) as { access_token: string; issued_token_type: string };
  expect(res.status).toBe(200);
  expect(body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:id-jag');
  return body.access_token;
}

async function jwtBearer(
  t: TestAs,
  assertion: string,
  extra: Record<string, string> = {},
  clientId = 'mcp-app',
) {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion, ...extra }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('jwt-bearer grant (RFC 7523) for ID-JAGs (MCP enterprise-managed authorization)', () => {
  let idp: EnterpriseIdpStub;
  let untrusted: EnterpriseIdpStub;
  let t: TestAs;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    idp = await startEnterpriseIdpStub({
      clients: [{ clientId: 'idp-client', clientSecret: 'idp-secret', resourceClientId: 'mcp-app' }],
    });
    untrusted = await startEnterpriseIdpStub();
    t = await startAs({
      grants: { jwtBearer: true },
      remoteJwks: { allowLoopback: true },
      trustedIdps: [{ issuer: idp.issuer, jwksUri: idp.jwksUri }],
      staticClients: [
        {
          client_id: 'mcp-app',
          client_secret: SECRET,
          grant_types: [JWT_BEARER],
          scope: 'mcp:read mcp:write',
        },
        {
          client_id: 'other-app',
          client_secret: SECRET,
          grant_types: [JWT_BEARER],
        },
        {
          client_id: 'no-grant',
          client_secret: SECRET,
          redirect_uris: ['https://app.example/cb'],
        },
      ],
    });
    as = await oauth.processDiscoveryResponse(
      new URL(t.url),
      await oauth.discoveryRequest(new URL(t.url), insecure),
    );
  });
  afterAll(async () => {
    await t.close();
    await idp.close();
    await untrusted.close();
  });

  it('rfc8414: metadata advertises the jwt-bearer grant', () => {
    expect(as.grant_types_supported).toContain(JWT_BEARER);
  });

  it('sep-990: an ID-JAG from a trusted IdP gets a token for the IdP user, oidc:<issuer>#<sub>, without refresh token', async () => {
    const jag = await exchange(idp, {
      subject_token: await idp.idToken('emp-42'),
      audience: t.url,
      resource: t.resource,
    });
    const client = { client_id: 'mcp-app' };
    const res = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.ClientSecretBasic(SECRET),
      JWT_BEARER,
      { assertion: jag },
      insecure,
    );
    const tokens = await oauth.processGenericTokenEndpointResponse(as, client, res);
    expect(tokens.refresh_token).toBeUndefined();
    const verified = await t.as.verifyAccessToken(tokens.access_token, { resource: t.resource });
    expect(verified.sub).toBe(`oidc:${idp.issuer}#emp-42`);
    expect(verified.clientId).toBe('mcp-app');
    expect(verified.scopes).toEqual(['mcp:read', 'mcp:write']);
  });

  it('sep-990: the ID-JAG scope bounds the token scope', async () => {
    const jag = await exchange(idp, {
      subject_token: await idp.idToken('emp-43'),
      audience: t.url,
      resource: t.resource,
      scope: 'mcp:read',
    });
    const r = await jwtBearer(t, jag);
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('mcp:read');
    const wider = await jwtBearer(
      t,
      await idp.signJag({
        sub: 'emp-43',
        aud: t.url,
        client_id: 'mcp-app',
        resource: t.resource,
        scope: 'mcp:read',
      }),
      { scope: 'mcp:write' },
    );
    expect(wider.body.error).toBe('invalid_scope');
  });

  it('rfc7523 §3: a replayed ID-JAG (same jti) answers invalid_grant', async () => {
    const jag = await idp.signJag({ sub: 'emp-1', aud: t.url, client_id: 'mcp-app', resource: t.resource });
    expect((await jwtBearer(t, jag)).status).toBe(200);
    const again = await jwtBearer(t, jag);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it.each([
    ['typ is not oauth-id-jag+jwt', { typ: 'JWT' }, {}],
    ['aud is not this issuer', {}, { aud: 'https://other-as.example' }],
    ['client_id is another client', {}, { client_id: 'other-app' }],
    [
      'exp has passed',
      {},
      { exp: Math.floor(Date.now() / 1000) - 120, iat: Math.floor(Date.now() / 1000) - 200 },
    ],
    ['exp is further ahead than the limit', {}, { exp: Math.floor(Date.now() / 1000) + 3600 }],
    ['iat is missing', {}, { iat: undefined }],
    ['resource is missing', {}, { resource: undefined }],
  ])('rfc7523 §3: an ID-JAG whose %s answers invalid_grant', async (_rule, header, claims) => {
    const jag = await idp.signJag(
      { sub: 'emp-2', aud: t.url, client_id: 'mcp-app', resource: t.resource, ...claims },
      header,
    );
    const r = await jwtBearer(t, jag);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
  });

  it('rfc7523 §3: an ID-JAG of an IdP that is not trusted answers invalid_grant', async () => {
    const jag = await untrusted.signJag({
      sub: 'emp-3',
      aud: t.url,
      client_id: 'mcp-app',
      resource: t.resource,
    });
    const r = await jwtBearer(t, jag);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
  });

  it('rfc8707: an ID-JAG for an unknown resource answers invalid_target', async () => {
    const jag = await idp.signJag({
      sub: 'emp-4',
      aud: t.url,
      client_id: 'mcp-app',
      resource: 'https://nope.example/mcp',
    });
    const r = await jwtBearer(t, jag);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_target');
  });

  it('rfc6749 §5.2: a client that did not register the grant gets unauthorized_client; bad client auth 401', async () => {
    const jag = await idp.signJag({ sub: 'emp-5', aud: t.url, client_id: 'no-grant', resource: t.resource });
    const r = await jwtBearer(t, jag, {}, 'no-grant');
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('unauthorized_client');
    const res = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('mcp-app:wrong').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: jag }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('the jwt-bearer grant answers unsupported_grant_type on a server that does not serve it', async () => {
    const off = await startAs({
      staticClients: [
        { client_id: 'mcp-app', client_secret: SECRET, redirect_uris: ['https://a.example/cb'] },
      ],
    });
    try {
      const r = await jwtBearer(off, 'x.y.z');
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('unsupported_grant_type');
    } finally {
      await off.close();
    }
  });
});
