// Upstream sign-in, discovery (MCP 2026-07-28 "Authorization Server Discovery"): the RFC 9728
// document from the upstream's 401 challenge, else path-inserted, else at the root; the
// authorization server's metadata at RFC 8414 path-inserted, OIDC path-inserted, then OIDC
// path-appended locations; its `issuer` identical to the name the document gave. Stub upstreams on
// 127.0.0.1 that serve their documents at one location only; a real gateway, its pages over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/oauth-upstream.js';
import { browserOf, connectPage, connectThrough } from './helpers/upstream-pages.js';

const NAMES = [
  'root-doc',
  'challenge-doc',
  'oidc-only',
  'path-oidc',
  'path-appended',
  'slash-metadata',
  'slash-both',
] as const;
type Name = (typeof NAMES)[number];

let gw: Gateway;
const up = {} as Record<Name, OAuthUpstream>;

beforeAll(async () => {
  for (const name of NAMES) up[name] = await startOAuthUpstream(name);
  ({ gw } = await listeningGateway({
    services: Object.fromEntries(
      NAMES.map((name) => [name, { type: 'http', url: up[name].resource, credentials: { type: 'oauth' } }]),
    ),
  }));
  await gw.users.put('alice', 'alice-password-1');
});

afterAll(async () => {
  await Promise.all(NAMES.map((name) => up[name]?.close()));
});

const stored = (service: Name) => gw.store.get(`gateway:upstream-tokens:${service} local:alice`);
/** The paths the discovery asked `service`'s upstream for, up to its registration. */
const discovery = (service: Name) => {
  const hits = up[service].hits;
  const end = hits.indexOf('/register');
  return end < 0 ? hits : hits.slice(0, end);
};

describe('upstream discovery: where the RFC 9728 document is found', () => {
  it('an upstream that serves its document at the root only (none path-inserted, none in its challenge) is connected', async () => {
    up['root-doc'].resourceMetadataAt = ['root'];
    // Its 401 names the path-inserted location, which it does not serve.
    expect((await connectThrough(gw, 'alice', 'root-doc')).status).toBe(303);
    expect(await stored('root-doc')).toBeTypeOf('string');
    expect(discovery('root-doc')).toEqual([
      '/mcp',
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-authorization-server',
    ]);
  });

  it("the `resource_metadata` of the upstream's 401 challenge comes first, and may be anywhere on its host", async () => {
    up['challenge-doc'].resourceMetadataAt = ['challenge'];
    expect((await connectThrough(gw, 'alice', 'challenge-doc')).status).toBe(303);
    expect(await stored('challenge-doc')).toBeTypeOf('string');
    expect(discovery('challenge-doc')).toEqual([
      '/mcp',
      '/meta/resource.json',
      '/.well-known/oauth-authorization-server',
    ]);
  });
});

describe('upstream discovery: where the authorization server metadata is found', () => {
  it('an authorization server with OpenID Connect discovery only (`openid-configuration`) is used', async () => {
    up['oidc-only'].serverMetadataAt = ['oidc'];
    expect((await connectThrough(gw, 'alice', 'oidc-only')).status).toBe(303);
    expect(await stored('oidc-only')).toBeTypeOf('string');
    expect(discovery('oidc-only').slice(-2)).toEqual([
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]);
  });

  it('an issuer with a path: RFC 8414 path-inserted, then OIDC path-inserted, in that order', async () => {
    up['path-oidc'].issuer = `${up['path-oidc'].url}/tenant`;
    up['path-oidc'].serverMetadataAt = ['oidc', 'oidc-appended'];
    expect((await connectThrough(gw, 'alice', 'path-oidc')).status).toBe(303);
    expect(await stored('path-oidc')).toBeTypeOf('string');
    expect(discovery('path-oidc').slice(-2)).toEqual([
      '/.well-known/oauth-authorization-server/tenant',
      '/.well-known/openid-configuration/tenant',
    ]);
  });

  it('an issuer with a path whose metadata is only path-appended (`<issuer>/.well-known/openid-configuration`) is used last', async () => {
    up['path-appended'].issuer = `${up['path-appended'].url}/tenant`;
    up['path-appended'].serverMetadataAt = ['oidc-appended'];
    expect((await connectThrough(gw, 'alice', 'path-appended')).status).toBe(303);
    expect(await stored('path-appended')).toBeTypeOf('string');
    expect(discovery('path-appended').slice(-3)).toEqual([
      '/.well-known/oauth-authorization-server/tenant',
      '/.well-known/openid-configuration/tenant',
      '/tenant/.well-known/openid-configuration',
    ]);
  });
});

describe("upstream discovery: the metadata's issuer is identical to the one the document names", () => {
  it('metadata naming `<issuer>/` for a document naming `<issuer>` is refused: the connect page answers 502, the browser is sent nowhere; the same string on both sides is fine', async () => {
    up['slash-metadata'].metadataIssuer = `${up['slash-metadata'].url}/`;
    const res = await connectPage(gw, await browserOf(gw, 'alice'), 'slash-metadata');
    expect(res.status).toBe(502);
    expect(res.headers.get('location')).toBeNull();
    expect(up['slash-metadata'].hits).not.toContain('/register');
    expect(await stored('slash-metadata')).toBeUndefined();

    up['slash-both'].issuer = `${up['slash-both'].url}/`;
    expect((await connectThrough(gw, 'alice', 'slash-both')).status).toBe(303);
    expect(await stored('slash-both')).toBeTypeOf('string');
  });
});
