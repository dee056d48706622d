// Upstream sign-in: the upstream's `authorization_endpoint` is where the gateway sends users'
// browsers, so only allowed schemes pass (MCP security best practices, "Authorization URL
// validation"): https, and http only where the configured upstream is plain http. A metadata
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
          `${stub.issuer} names an authorization_endpoint ${scheme ? `with the scheme "${scheme}"` : 'that is not a URL'}; only https: and http: URLs are allowed`,
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

  it('http: only where the configured upstream is plain http; https: always', () => {
    const as = 'https://as.example';
    expect(allowedAuthorizationEndpoint(as, 'https://as.example/authorize', false).href).toBe(
      'https://as.example/authorize',
    );
    expect(allowedAuthorizationEndpoint(as, 'http://127.0.0.1:9/authorize', true).protocol).toBe('http:');
    expect(() => allowedAuthorizationEndpoint(as, 'http://as.example/authorize', false)).toThrow(
      'https://as.example names an authorization_endpoint with the scheme "http:"; only https: URLs are allowed',
    );
    for (const value of [...DANGEROUS, undefined, 42])
      expect(() => allowedAuthorizationEndpoint(as, value, true)).toThrow(UpstreamAuthorizationUrlRefused);
  });
});
