import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAs, type TestAs } from './helpers.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

/**
 * MCP 2026-07-28 (SEP-2351) uses the default RFC 8414 suffix
 * `oauth-authorization-server` and OpenID Discovery; for an issuer with a path
 * the RFC 8414 document sits at the path-inserted URL, OpenID's at the
 * appended one. oauth4webapi builds exactly those URLs and checks `issuer`.
 */
let root: TestAs;
let tenant: TestAs;
beforeAll(async () => {
  root = await startAs();
  tenant = await startAs({ issuerPath: '/tenant/auth' });
});
afterAll(async () => {
  await root?.close();
  await tenant?.close();
});

describe('sep-2351 well-known suffix', () => {
  it.each(['oauth2', 'oidc'] as const)(
    'sep-2351: %s discovery of a root issuer and of an issuer with a path finds the document with that issuer',
    async (algorithm) => {
      for (const t of [root, tenant]) {
        const issuer = new URL(t.url);
        const as = await oauth.processDiscoveryResponse(
          issuer,
          await oauth.discoveryRequest(issuer, { algorithm, ...insecure }),
        );
        expect(as.issuer).toBe(t.url);
        expect(as.token_endpoint).toBe(`${t.url}/token`);
      }
    },
  );

  it('sep-2351: the path-inserted RFC 8414 URL is the one served for a path issuer, not the root one', async () => {
    const origin = new URL(tenant.url).origin;
    expect((await fetch(`${origin}/.well-known/oauth-authorization-server/tenant/auth`)).status).toBe(200);
    expect((await fetch(`${origin}/tenant/auth/.well-known/openid-configuration`)).status).toBe(200);
    expect((await fetch(`${origin}/.well-known/oauth-authorization-server`)).status).toBe(404);
  });
});
