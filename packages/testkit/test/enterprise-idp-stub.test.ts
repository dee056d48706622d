import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ID_JAG_TOKEN_TYPE,
  ID_TOKEN_TYPE,
  startEnterpriseIdpStub,
  TOKEN_EXCHANGE_GRANT,
  type EnterpriseIdpStub,
} from '../src/index.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('enterprise IdP stub: RFC 8693 token exchange of ID tokens for ID-JAGs', () => {
  let idp: EnterpriseIdpStub;
  let as: oauth.AuthorizationServer;
  beforeAll(async () => {
    idp = await startEnterpriseIdpStub({
      clients: [{ clientId: 'app', clientSecret: 'app-secret', resourceClientId: 'app-at-mcp' }],
    });
    as = await oauth.processDiscoveryResponse(
      new URL(idp.issuer),
      await oauth.discoveryRequest(new URL(idp.issuer), insecure),
    );
  });
  afterAll(() => idp.close());

  const exchange = async (params: Record<string, string>, secret = 'app-secret') =>
    oauth.genericTokenEndpointRequest(
      as,
      { client_id: 'app' },
      oauth.ClientSecretPost(secret),
      TOKEN_EXCHANGE_GRANT,
      {
        requested_token_type: ID_JAG_TOKEN_TYPE,
        subject_token_type: ID_TOKEN_TYPE,
        audience: 'https://as.example',
        resource: 'https://mcp.example/mcp',
        ...params,
      },
      insecure,
    );

  it('sep-990: an ID token of the IdP becomes an ID-JAG for the audience, resource and client at the resource AS', async () => {
    const res = await exchange({ subject_token: await idp.idToken('emp-1', 'app'), scope: 'mcp:read' });
    const body = (await res.json()) as {
      access_token: string;
      issued_token_type: string;
      token_type: string;
    };
    expect(res.status).toBe(200);
    expect(body.issued_token_type).toBe(ID_JAG_TOKEN_TYPE);
    expect(body.token_type).toBe('N_A');
    expect(decodeProtectedHeader(body.access_token).typ).toBe('oauth-id-jag+jwt');
    const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(idp.jwksUri)), {
      issuer: idp.issuer,
      audience: 'https://as.example',
    });
    expect(payload).toMatchObject({
      sub: 'emp-1',
      client_id: 'app-at-mcp',
      resource: 'https://mcp.example/mcp',
      scope: 'mcp:read',
    });
    expect(typeof payload.jti).toBe('string');
    expect(idp.issued).toHaveLength(1);
  });

  it('refuses a wrong client secret (401), an ID token for another client, and a missing resource', async () => {
    const wrongSecret = await exchange({ subject_token: await idp.idToken('emp-1', 'app') }, 'nope');
    expect(wrongSecret.status).toBe(401);
    const otherAudience = await exchange({ subject_token: await idp.idToken('emp-1', 'someone-else') });
    expect(((await otherAudience.json()) as { error: string }).error).toBe('invalid_grant');
    const noResource = await exchange({ subject_token: await idp.idToken('emp-1', 'app'), resource: '' });
    expect(((await noResource.json()) as { error: string }).error).toBe('invalid_request');
  });
});
