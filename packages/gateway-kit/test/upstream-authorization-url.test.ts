// Upstream sign-in: the upstream's `authorization_endpoint` is where the gateway sends users'
// browsers, so only allowed schemes pass (MCP security best practices, "Authorization URL
// validation"): https, or http on a loopback host only, whatever the configured upstream. A metadata
// document naming `javascript:`, `data:`, `file:`, `vbscript:` or a scheme without a host is
// refused when it is discovered: nothing is registered there and no browser is redirected.
// Stub upstreams on 127.0.0.1, a real gateway, its pages over HTTP.
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway/create.js';
import { allowedAuthorizationEndpoint } from '../src/upstream/authorization-url.js';
import {
  UpstreamAuthorizationUrlRefused,
  UpstreamOAuthClient,
  UpstreamOAuthError,
} from '../src/upstream/oauth-client.js';
import { SecretBox } from '../src/upstream/secret-box.js';
import { listeningGateway } from './helpers/listening.js';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/oauth-upstream.js';
import { browserOf, connectPage } from './helpers/upstream-pages.js';

const DANGEROUS = [
  'javascript:alert(document.cookie)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'vbscript:msgbox(1)',
  'ms-settings:privacy',
  'ftp://127.0.0.1/authorize',
  'not a url',
];

let gw: Gateway;
let up: OAuthUpstream;

beforeAll(async () => {
  up = await startOAuthUpstream('scheme');
  up.authorizationEndpoint = 'javascript:alert(document.cookie)//';
  ({ gw } = await listeningGateway({
    services: { remote: { type: 'http', url: up.resource, credentials: { type: 'oauth' } } },
  }));
  await gw.users.put('alice', 'alice-password-1');
});

afterAll(async () => {
  await up?.close();
});

function client(resource: string): UpstreamOAuthClient {
  return new UpstreamOAuthClient({
    service: 'remote',
    resource,
    redirectUri: 'http://127.0.0.1:8080/account/upstream/callback/remote',
    clientName: 'mcp-gateway test',
    store: new MemoryStore(),
    box: new SecretBox(new Uint8Array(32).fill(4), 'upstream-tokens'),
  });
}

describe('upstream sign-in: the authorization URL is validated', () => {
  it('the connect page never redirects to a javascript: authorization endpoint: "Cannot connect" (502), nothing registered, the upstream never asked to authorize', async () => {
    const res = await connectPage(gw, await browserOf(gw, 'alice'), 'remote');
    expect(res.status).toBe(502);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('Cannot connect');
    expect(up.hits).not.toContain('/register');
    expect(up.authorizeQueries).toEqual([]);
  });

  it('each dangerous scheme, or no URL, is refused at discovery with a typed error naming the scheme, before any registration', async () => {
    const stub = await startOAuthUpstream('schemes');
    try {
      for (const endpoint of DANGEROUS) {
        stub.authorizationEndpoint = endpoint;
        const err = await client(stub.resource)
          .authorizationUrl('state', 'v'.repeat(43))
          .catch((e: unknown) => e);
        expect(err, endpoint).toBeInstanceOf(UpstreamAuthorizationUrlRefused);
        // A refusal of the upstream's sign-in as a whole, as a missing PKCE S256 is.
        expect(err, endpoint).toBeInstanceOf(UpstreamOAuthError);
        const scheme = URL.canParse(endpoint) ? new URL(endpoint).protocol : undefined;
        expect((err as Error).message, endpoint).toBe(
          `${stub.issuer} names an authorization_endpoint ${scheme ? `with the scheme "${scheme}"` : 'that is not a URL'}; only https: URLs, or http: on a loopback host, are allowed`,
        );
      }
      expect(stub.hits).not.toContain('/register');
      // The same upstream with its own http endpoint (a loopback http upstream): allowed.
      delete stub.authorizationEndpoint;
      const { url } = await client(stub.resource).authorizationUrl('state', 'v'.repeat(43));
      expect(url.href).toMatch(new RegExp(`^${stub.url}/authorize\\?`));
      expect(stub.hits.filter((p) => p === '/register')).toHaveLength(1);
    } finally {
      await stub.close();
    }
  });

  it('http: only on a loopback host (localhost, 127.0.0.0/8, [::1]), whatever the configured upstream; https: always', () => {
    const as = 'https://as.example';
    expect(allowedAuthorizationEndpoint(as, 'https://as.example/authorize').href).toBe(
      'https://as.example/authorize',
    );
    for (const loopback of [
      'http://127.0.0.1:9/authorize',
      'http://127.8.0.1/a',
      'http://localhost:3/a',
      'http://[::1]:4/a',
    ])
      expect(allowedAuthorizationEndpoint(as, loopback).protocol, loopback).toBe('http:');
    for (const remote of [
      'http://as.example/authorize',
      'http://10.0.0.1/a',
      'http://localhost.as.example/a',
    ])
      expect(() => allowedAuthorizationEndpoint(as, remote), remote).toThrow(
        'https://as.example names an authorization_endpoint with the scheme "http:" on a host that is not loopback; only https: URLs, or http: on a loopback host (localhost, 127.0.0.0/8, [::1]), are allowed',
      );
    for (const value of [...DANGEROUS, undefined, 42])
      expect(() => allowedAuthorizationEndpoint(as, value)).toThrow(UpstreamAuthorizationUrlRefused);
  });

  it('an http upstream naming an http: authorization endpoint on a host that is not loopback is refused at discovery, before any registration', async () => {
    const stub = await startOAuthUpstream('remote-http');
    try {
      stub.authorizationEndpoint = 'http://as.example/authorize';
      const err = await client(stub.resource)
        .authorizationUrl('state', 'v'.repeat(43))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamAuthorizationUrlRefused);
      expect(stub.hits).not.toContain('/register');
    } finally {
      await stub.close();
    }
  });
});
