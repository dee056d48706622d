import { listen, type Listening } from '@mcp-gateway/testkit';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/secrets.js';
import { startAs, type TestAs } from './helpers.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const insecure = { [oauth.allowInsecureRequests]: true };

async function discover(t: TestAs): Promise<oauth.AuthorizationServer> {
  return oauth.processDiscoveryResponse(
    new URL(t.url),
    await oauth.discoveryRequest(new URL(t.url), insecure),
  );
}

/** POSTs a form to the token endpoint, for the refusals (status and RFC error code). */
async function tokenCall(t: TestAs, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

async function register(t: TestAs, metadata: Record<string, unknown>) {
  const res = await fetch(`${t.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, string> & { client_secret: string; client_id: string },
  };
}

/** A client assertion as RFC 7523 §3 describes it; `claims` override. */
async function assertion(
  key: CryptoKey,
  clientId: string,
  aud: string,
  claims: Record<string, unknown> = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: clientId,
    sub: clientId,
    aud,
    iat: now,
    exp: now + 60,
    jti: crypto.randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256' })
    .sign(key);
}

describe('client_credentials grant (RFC 6749 §4.4) for machine clients', () => {
  let t: TestAs;
  let as: oauth.AuthorizationServer;
  let keysServer: Listening;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let publicJwk: Record<string, unknown>;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    otherKey = (await generateKeyPair('ES256')).privateKey;
    keysServer = await listen(() => Response.json({ keys: [publicJwk] }));
    t = await startAs({
      grants: { clientCredentials: true },
      remoteJwks: { allowLoopback: true },
      staticClients: [
        {
          client_id: 'post-bot',
          client_secret_hash: await hashSecret('post-bot-secret-0123456789'),
          token_endpoint_auth_method: 'client_secret_post',
          grant_types: ['client_credentials'],
          scope: 'mcp:read',
        },
        {
          client_id: 'uri-bot',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: `${keysServer.url}/jwks.json`,
          grant_types: ['client_credentials'],
          scope: 'mcp:read mcp:write',
        },
      ],
    });
    as = await discover(t);
  });
  afterAll(async () => {
    await t.close();
    await keysServer.close();
  });

  it('rfc8414: metadata advertises client_credentials, private_key_jwt and its signing algorithms', () => {
    expect(as.grant_types_supported).toContain('client_credentials');
    expect(as.grant_types_supported).not.toContain('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(as.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(as.token_endpoint_auth_signing_alg_values_supported).toContain('ES256');
  });

  it('client_secret_basic (DCR client): the token names the client as subject, the resource as audience, no refresh token', async () => {
    const reg = await register(t, {
      client_name: 'bot',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mcp:read',
    });
    expect(reg.status).toBe(201);
    expect(reg.body.redirect_uris).toEqual([]);
    expect(reg.body.response_types).toEqual([]);
    const client = { client_id: reg.body.client_id };
    const res = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(reg.body.client_secret),
      { resource: t.resource },
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('mcp:read');
    const verified = await t.as.verifyAccessToken(tokens.access_token, { resource: t.resource });
    expect(verified.sub).toBe(`client:${client.client_id}`);
    expect(verified.clientId).toBe(client.client_id);
    expect(verified.scopes).toEqual(['mcp:read']);
  });

  it('client_secret_post (static client with a hashed secret); no resource means the default one', async () => {
    const client = { client_id: 'post-bot' };
    const res = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost('post-bot-secret-0123456789'),
      {},
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    const verified = await t.as.verifyAccessToken(tokens.access_token, { resource: t.resource });
    expect(verified.sub).toBe('client:post-bot');
  });

  it('rfc7523 §2.2: private_key_jwt with registered jwks (DCR)', async () => {
    const reg = await register(t, {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [publicJwk] },
      scope: 'mcp:write',
    });
    expect(reg.status).toBe(201);
    expect(reg.body.client_secret).toBeUndefined();
    const client = { client_id: reg.body.client_id };
    const res = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.PrivateKeyJwt(key),
      { resource: t.resource, scope: 'mcp:write' },
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    expect(tokens.scope).toBe('mcp:write');
  });

  it('rfc7523 §2.2: private_key_jwt with jwks_uri (static client), keys fetched and cached', async () => {
    const client = { client_id: 'uri-bot' };
    for (let i = 0; i < 2; i++) {
      const res = await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.PrivateKeyJwt(key),
        {},
        insecure,
      );
      const tokens = await oauth.processClientCredentialsResponse(as, client, res);
      expect(tokens.scope).toBe('mcp:read mcp:write');
    }
  });

  it('rfc7523 §3: a replayed assertion (same jti) answers 401 invalid_client', async () => {
    const jwt = await assertion(key, 'uri-bot', t.url);
    const form = {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    };
    expect((await tokenCall(t, form)).status).toBe(200);
    const again = await tokenCall(t, form);
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
  });

  it.each([
    ['aud is neither the issuer nor the token endpoint', { aud: 'https://elsewhere.example' }],
    ['iss differs from sub', { iss: 'someone-else' }],
    ['exp is further ahead than the limit', { exp: Math.floor(Date.now() / 1000) + 3600 }],
    [
      'exp has passed',
      { exp: Math.floor(Date.now() / 1000) - 120, iat: Math.floor(Date.now() / 1000) - 180 },
    ],
    ['no jti', { jti: undefined }],
  ])('rfc7523 §3: an assertion whose %s answers 401 invalid_client', async (_rule, claims) => {
    const jwt = await assertion(key, 'uri-bot', `${t.url}/token`, claims);
    const r = await tokenCall(t, {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
  });

  it('rfc7523 §3: an assertion signed by a key the client did not register answers 401 invalid_client', async () => {
    const r = await tokenCall(t, {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(otherKey, 'uri-bot', t.url),
    });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
  });

  it('rfc6749 §5.2: a wrong secret and an unknown client answer 401 invalid_client alike', async () => {
    const wrong = await tokenCall(t, { grant_type: 'client_credentials' }, basic('post-bot', 'nope'));
    const unknown = await tokenCall(t, { grant_type: 'client_credentials' }, basic('nobody', 'nope'));
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error).toBe('invalid_client');
  });

  it('rfc6749 §5.2: a client that did not register client_credentials gets unauthorized_client', async () => {
    const reg = await register(t, {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const r = await tokenCall(
      t,
      { grant_type: 'client_credentials' },
      basic(reg.body.client_id, reg.body.client_secret),
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('unauthorized_client');
  });

  it('rfc8707: an unknown resource answers invalid_target', async () => {
    const r = await tokenCall(t, {
      grant_type: 'client_credentials',
      client_id: 'post-bot',
      client_secret: 'post-bot-secret-0123456789',
      resource: 'https://other.example/mcp',
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_target');
  });

  it('rfc6749 §4.4.2: a scope beyond the registered one answers invalid_scope', async () => {
    const r = await tokenCall(t, {
      grant_type: 'client_credentials',
      client_id: 'post-bot',
      client_secret: 'post-bot-secret-0123456789',
      scope: 'mcp:read mcp:write',
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_scope');
  });

  it('rfc7591: private_key_jwt needs exactly one of jwks and jwks_uri, and public keys only', async () => {
    const base = { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt' };
    const none = await register(t, base);
    const both = await register(t, {
      ...base,
      jwks: { keys: [publicJwk] },
      jwks_uri: 'https://k.example/jwks',
    });
    const priv = await register(t, { ...base, jwks: { keys: [{ ...publicJwk, d: 'secret' }] } });
    const plain = await register(t, { ...base, jwks_uri: 'http://keys.example.com/jwks' });
    for (const r of [none, both, priv, plain]) {
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('invalid_client_metadata');
    }
    expect(priv.body.error_description).toMatch(/jwks/);
  });

  it('rfc7591: client_credentials needs a confidential client', async () => {
    const r = await register(t, { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_client_metadata');
  });
});

describe('client_credentials when the server does not serve it', () => {
  let t: TestAs;
  beforeAll(async () => {
    t = await startAs({
      staticClients: [
        {
          client_id: 'web',
          client_secret: 'web-secret-0123456789abcdef',
          redirect_uris: ['https://app.example/cb'],
        },
      ],
    });
  });
  afterAll(() => t.close());

  it('rfc6749 §5.2: the grant answers unsupported_grant_type and registration refuses it', async () => {
    const r = await tokenCall(
      t,
      { grant_type: 'client_credentials' },
      basic('web', 'web-secret-0123456789abcdef'),
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('unsupported_grant_type');
    const reg = await register(t, { grant_types: ['client_credentials'] });
    expect(reg.status).toBe(400);
    expect(reg.body.error).toBe('invalid_client_metadata');
    const meta = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as {
      grant_types_supported: string[];
    };
    expect(meta.grant_types_supported).toEqual(['authorization_code', 'refresh_token']);
  });

  it('a static client with a grant the server does not serve is a start-up error', async () => {
    await expect(
      startAs({
        staticClients: [
          { client_id: 'bot', client_secret: 'x'.repeat(20), grant_types: ['client_credentials'] },
        ],
      }),
    ).rejects.toThrow(/client_credentials/);
  });
});

describe('jwks_uri fetching', () => {
  let t: TestAs;
  let keysServer: Listening;
  let key: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1' };
    keysServer = await listen(() => Response.json({ keys: [jwk] }));
    // Loopback is refused by default: the classifier guards key-set fetches like CIMD fetches.
    t = await startAs({
      grants: { clientCredentials: true },
      staticClients: [
        {
          client_id: 'uri-bot',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: `${keysServer.url}/jwks.json`,
          grant_types: ['client_credentials'],
          scope: 'mcp:read',
        },
      ],
    });
  });
  afterAll(async () => {
    await t.close();
    await keysServer.close();
  });

  it('ssrf: a jwks_uri on a loopback address is not fetched unless allowed; the client gets 401 invalid_client', async () => {
    const r = await tokenCall(t, {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(key, 'uri-bot', t.url),
    });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
  });
});
