import { describe, expect, it } from 'vitest';
import { protectedResourceMetadataUrl } from '../../src/index.js';
import { testServer } from '../helpers/server.js';

describe('rfc8414 discovery', () => {
  const expected = (issuer: string) => ({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    scopes_supported: ['mcp:read', 'mcp:write', 'offline_access'],
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
  });

  it('rfc8414: metadata at the root issuer, with cache headers and CORS', async () => {
    const { call } = testServer();
    const res = await call('/.well-known/oauth-authorization-server', {
      headers: { origin: 'https://x.example' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toMatchObject(expected('https://as.example.com'));
  });

  it('rfc8414 §3.1: an issuer with a path serves the path-inserted well-known URL (and OIDC forms)', async () => {
    const { call } = testServer({ issuer: 'https://as.example.com/tenant/auth' });
    for (const path of [
      '/.well-known/oauth-authorization-server/tenant/auth',
      '/.well-known/openid-configuration/tenant/auth',
      '/tenant/auth/.well-known/openid-configuration',
    ]) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toMatchObject(expected('https://as.example.com/tenant/auth'));
    }
    expect((await call('/.well-known/oauth-authorization-server')).status).toBe(404);
  });

  it('openid-configuration carries the same AS fields', async () => {
    const { call } = testServer();
    const a = await (await call('/.well-known/oauth-authorization-server')).json();
    const b = await (await call('/.well-known/openid-configuration')).json();
    expect(b).toEqual(a);
  });

  it('HEAD on metadata answers headers only', async () => {
    const { call } = testServer();
    const res = await call('/.well-known/oauth-authorization-server', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('rfc9728 protected resource metadata', () => {
  it('rfc9728 §3.1: served at the path-inserted URL for each configured resource', async () => {
    const { call, server } = testServer({
      resources: [
        { resource: 'https://as.example.com/mcp', scopes: ['mcp'], name: 'Main' },
        { resource: 'https://as.example.com', name: 'Root' },
      ],
    });
    const res = await call('/.well-known/oauth-protected-resource/mcp');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: 'https://as.example.com/mcp',
      authorization_servers: ['https://as.example.com'],
      scopes_supported: ['mcp'],
      bearer_methods_supported: ['header'],
      resource_name: 'Main',
    });
    const root = await (await call('/.well-known/oauth-protected-resource')).json();
    expect(root).toMatchObject({ resource: 'https://as.example.com', resource_name: 'Root' });
    expect(server.protectedResourceMetadata('https://as.example.com/mcp')?.resource_name).toBe('Main');
    expect(server.protectedResourceMetadata('https://other.example/mcp')).toBeUndefined();
    expect((await call('/.well-known/oauth-protected-resource/other')).status).toBe(404);
  });

  it('rfc9728: the metadata URL builder inserts the well-known segment', () => {
    expect(protectedResourceMetadataUrl('https://h.example/mcp')).toBe(
      'https://h.example/.well-known/oauth-protected-resource/mcp',
    );
    expect(protectedResourceMetadataUrl('https://h.example')).toBe(
      'https://h.example/.well-known/oauth-protected-resource',
    );
    expect(protectedResourceMetadataUrl('https://h.example:8443/a/b/')).toBe(
      'https://h.example:8443/.well-known/oauth-protected-resource/a/b',
    );
  });

  it('scopes_supported defaults to the union of resource scopes', () => {
    const { server } = testServer({
      resources: [
        { resource: 'https://a.example/mcp', scopes: ['a', 'shared'] },
        { resource: 'https://b.example/mcp', scopes: ['b', 'shared'] },
      ],
    });
    expect(server.metadata().scopes_supported).toEqual(['a', 'shared', 'b', 'offline_access']);
  });

  it('rfc8414: scopes_supported leaves out scopes only an advertise: false resource uses; its RFC 9728 document stays public', async () => {
    const { server } = testServer({
      resources: [
        { resource: 'https://a.example/mcp', scopes: ['a', 'shared'] },
        { resource: 'https://b.example/secret/mcp', scopes: ['secret', 'shared'], advertise: false },
      ],
    });
    expect(server.metadata().scopes_supported).toEqual(['a', 'shared', 'offline_access']);
    const res = await server.fetch(
      new Request('https://b.example/.well-known/oauth-protected-resource/secret/mcp'),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scopes_supported: string[] }).scopes_supported).toEqual([
      'secret',
      'shared',
    ]);
  });
});
