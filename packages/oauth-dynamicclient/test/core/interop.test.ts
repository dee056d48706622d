import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oauth from 'oauth4webapi';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  registerClient,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidClientMetadataError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { createAuthorizationServer, silentLogger, type AuthorizationServer } from '../../src/index.js';

interface Running {
  http: Listening;
  server: AuthorizationServer;
  issuer: string;
  resource: string;
}
const running: Running[] = [];
const initialAccessToken = 'initial-access-token-for-interop';

async function start(prefix: string, withIat = false): Promise<Running> {
  const late: { server?: AuthorizationServer } = {};
  const http = await listen((r) => late.server!.fetch(r, { remoteAddress: '127.0.0.1' }));
  const issuer = `${http.url}${prefix}`;
  const resource = `${http.url}/mcp`;
  late.server = createAuthorizationServer({
    issuer,
    resources: [{ resource, scopes: ['mcp:tools'], name: 'Interop MCP' }],
    logger: silentLogger,
    ...(withIat ? { registration: { initialAccessToken } } : {}),
  });
  const r = { http, server: late.server, issuer, resource };
  running.push(r);
  return r;
}

let root: Running;
let prefixed: Running;
beforeAll(async () => {
  root = await start('');
  prefixed = await start('/tenant/auth');
});
afterAll(async () => {
  for (const r of running) await r.http.close();
});

const insecure = { [oauth.allowInsecureRequests]: true };

describe.each(['root', 'path'])('oauth4webapi as a real client (issuer at %s)', (where) => {
  const target = () => (where === 'root' ? root : prefixed);

  it('rfc8414 + rfc7591: discovery and registration through oauth4webapi', async () => {
    const { issuer } = target();
    const issuerUrl = new URL(issuer);
    const as = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth.discoveryRequest(issuerUrl, { algorithm: 'oauth2', ...insecure }),
    );
    expect(as.registration_endpoint).toBe(`${issuer}/register`);
    // OIDC discovery works too.
    const oidc = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth.discoveryRequest(issuerUrl, { algorithm: 'oidc', ...insecure }),
    );
    expect(oidc.token_endpoint).toBe(`${issuer}/token`);

    const client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: 'oauth4webapi client',
          redirect_uris: ['http://127.0.0.1:53682/cb'],
          token_endpoint_auth_method: 'client_secret_post',
          grant_types: ['authorization_code', 'refresh_token'],
        },
        insecure,
      ),
    );
    expect(client.client_id).toEqual(expect.any(String));
    expect(client.client_secret).toEqual(expect.any(String));
    expect(client.token_endpoint_auth_method).toBe('client_secret_post');
    expect(client.registration_client_uri).toBe(`${issuer}/register/${client.client_id}`);
  });

  it('rfc9728: oauth4webapi resource discovery finds this issuer', async () => {
    const { resource, issuer } = target();
    const rs = await oauth.processResourceDiscoveryResponse(
      new URL(resource),
      await oauth.resourceDiscoveryRequest(new URL(resource), insecure),
    );
    expect(rs.authorization_servers).toEqual([issuer]);
    expect(rs.resource_name).toBe('Interop MCP');
  });

  it('rfc7591: oauth4webapi surfaces invalid_redirect_uri as a ResponseBodyError', async () => {
    const { issuer } = target();
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }),
    );
    const err = await oauth
      .processDynamicClientRegistrationResponse(
        await oauth.dynamicClientRegistrationRequest(
          as,
          { redirect_uris: ['http://localhost.evil.com/cb'] },
          insecure,
        ),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(oauth.ResponseBodyError);
    expect((err as oauth.ResponseBodyError).error).toBe('invalid_redirect_uri');
    expect((err as oauth.ResponseBodyError).status).toBe(400);
  });
});

describe('initial access token with oauth4webapi', () => {
  it('rfc7591 §3: registration needs the initial access token, which oauth4webapi sends as Bearer', async () => {
    const { issuer } = await start('/iat', true);
    const as = await oauth.processDiscoveryResponse(
      new URL(issuer),
      await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }),
    );
    const metadata = { redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none' };
    const refused = await oauth
      .processDynamicClientRegistrationResponse(
        await oauth.dynamicClientRegistrationRequest(as, metadata, insecure),
      )
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const ok = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, metadata, { ...insecure, initialAccessToken }),
    );
    expect(ok.client_id).toEqual(expect.any(String));
  });
});

describe.each(['root', 'path'])('MCP SDK client registration (issuer at %s)', (where) => {
  const target = () => (where === 'root' ? root : prefixed);

  it('MCP SDK: protected-resource discovery → AS discovery → registerClient → RFC 7592 read', async () => {
    const { resource, issuer } = target();
    const prm = await discoverOAuthProtectedResourceMetadata(resource);
    expect(prm.authorization_servers).toEqual([issuer]);
    const metadata = await discoverAuthorizationServerMetadata(prm.authorization_servers![0]!);
    expect(metadata?.issuer).toBe(issuer);
    expect(metadata?.code_challenge_methods_supported).toContain('S256');

    const info = await registerClient(issuer, {
      metadata,
      clientMetadata: {
        client_name: 'MCP SDK client',
        redirect_uris: ['http://localhost:8090/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        scope: 'mcp:tools',
      },
    });
    expect(info.client_id).toEqual(expect.any(String));
    expect(info.client_secret).toBeUndefined();
    expect(info.scope).toBe('mcp:tools');

    // The SDK keeps only RFC 7591 client fields; the server knows the client.
    const known = await target().server.clients.get(info.client_id);
    expect(known?.metadata.client_name).toBe('MCP SDK client');
  });

  it('MCP SDK: registration errors surface with the OAuth error code and description', async () => {
    const { issuer } = target();
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    const bad = await registerClient(issuer, {
      metadata,
      clientMetadata: { redirect_uris: ['http://127.0.0.1:1/cb'], grant_types: ['client_credentials'] },
    }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidClientMetadataError);
    expect((bad as Error).message).toMatch(/unsupported grant type "client_credentials"/);

    const redirect = await registerClient(issuer, {
      metadata,
      clientMetadata: { redirect_uris: ['javascript:alert(1)'], client_name: 'bad' },
    }).catch((e: unknown) => e);
    // The SDK has no class for invalid_redirect_uri; the description still reaches the caller.
    expect((redirect as Error).message).toMatch(/scheme javascript: is not allowed/);
  });
});
