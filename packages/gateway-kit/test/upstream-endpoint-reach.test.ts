// Upstream sign-in: the endpoints an upstream's OAuth metadata names may not lead the gateway further
// inside the network than the configured upstream itself. Stub upstreams on loopback; the injected
// resolver makes names resolve to 10.0.0.1 or 169.254.169.254 (nothing is ever sent there).
import { listen, type Listening } from '@mcp-gateway/testkit';
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { afterAll, describe, expect, it } from 'vitest';
import { AddressRefusedError } from '../src/http/address-guard.js';
import { configuredReach, refusedEndpoint, withinReach } from '../src/upstream/endpoint-reach.js';
import {
  UpstreamEndpointRefused,
  UpstreamOAuthClient,
  UpstreamOAuthError,
} from '../src/upstream/oauth-client.js';
import { SecretBox } from '../src/upstream/secret-box.js';
import { PUBLIC, testResolver } from './helpers/resolver.js';

const { names, resolver } = testResolver();

/** A protected MCP upstream on loopback whose RFC 9728 and RFC 8414 documents the test writes. */
interface StubUpstream extends Listening {
  resource: string;
  /** `authorization_servers[0]` of the resource's document (default: the stub itself). */
  issuer?: string;
  /** Fields of the authorization server metadata over the stub's own endpoints. */
  metadata: Record<string, unknown>;
  /** Paths requested, in order. */
  hits: string[];
}

const stubs: Listening[] = [];
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
});

async function stubUpstream(): Promise<StubUpstream> {
  const late = {} as StubUpstream;
  const server = await listen(async (req) => {
    const path = new URL(req.url).pathname;
    late.hits.push(path);
    if (path === '/.well-known/oauth-protected-resource/mcp')
      return Response.json({ resource: late.resource, authorization_servers: [late.issuer ?? late.url] });
    if (path === '/.well-known/oauth-authorization-server')
      return Response.json({
        issuer: late.url,
        authorization_endpoint: `${late.url}/authorize`,
        token_endpoint: `${late.url}/token`,
        registration_endpoint: `${late.url}/register`,
        code_challenge_methods_supported: ['S256'],
        ...late.metadata,
      });
    if (path === '/register') return Response.json({ client_id: 'gateway-client' }, { status: 201 });
    if (path === '/token')
      return Response.json({ access_token: 'at-2', token_type: 'Bearer', expires_in: 3600 });
    return new Response(null, { status: 404 });
  });
  stubs.push(server);
  return Object.assign(late, server, { resource: `${server.url}/mcp`, metadata: {}, hits: [] });
}

function client(resource: string): UpstreamOAuthClient {
  return new UpstreamOAuthClient({
    service: 'remote',
    resource,
    redirectUri: 'http://127.0.0.1:8080/account/upstream/callback',
    clientName: 'mcp-gateway test',
    store: new MemoryStore(),
    box: new SecretBox(new Uint8Array(32).fill(3), 'upstream-tokens'),
    resolver,
  });
}

describe('upstream sign-in: metadata may not name endpoints further inside than the configured upstream', () => {
  it('a loopback upstream may name loopback endpoints, but naming the cloud metadata endpoint (token, registration, authorization, revocation endpoint or its authorization server) is refused at discovery; nothing is sent there', async () => {
    const up = await stubUpstream();
    // (http: authorization pages only on a loopback host name: see upstream-authorization-url.test.ts.)
    names['localhost'] = ['127.0.0.1'];
    up.metadata = { authorization_endpoint: `http://localhost:${up.port}/authorize` };
    const { url } = await client(up.resource).authorizationUrl('state-1', 'v'.repeat(43));
    expect(url.origin).toBe(`http://localhost:${up.port}`);
    expect(up.hits.filter((p) => p === '/register')).toHaveLength(1);

    names['imds.test'] = ['169.254.169.254'];
    for (const [field, value] of [
      ['token_endpoint', 'http://169.254.169.254/latest/meta-data/iam'],
      ['registration_endpoint', 'http://imds.test/register'],
      ['authorization_endpoint', 'https://[fd00:ec2::254]/authorize'],
      ['revocation_endpoint', 'http://imds.test/revoke'],
    ] as const) {
      up.metadata = { [field]: value };
      const err = await client(up.resource)
        .authorizationUrl('s', 'v'.repeat(43))
        .catch((e: unknown) => e);
      // Not a refusal of anyone's grant (a user's tokens are kept): its own error type.
      expect(err).toBeInstanceOf(UpstreamEndpointRefused);
      expect(err).not.toBeInstanceOf(UpstreamOAuthError);
      expect((err as Error).message).toMatch(
        new RegExp(`^the upstream's ${field} https?://.* is refused: .*a cloud metadata address`),
      );
    }
    // The authorization server the resource names is checked before it is asked for its metadata.
    up.metadata = {};
    up.issuer = 'http://imds.test';
    const err = await client(up.resource)
      .authorizationServer()
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      "the upstream's authorization server http://imds.test is refused: imds.test resolves to 169.254.169.254, a cloud metadata address, further inside the network than the configured upstream",
    );
    // Only the first client (loopback endpoints) registered.
    expect(up.hits.filter((p) => p === '/register')).toHaveLength(1);
  });

  it("the configured upstream's own origin is the operator's: a host with a loopback and a public address serves its sign-in, while another host it names on loopback is refused", async () => {
    const up = await stubUpstream();
    // Loopback first, so the connection (pinned, every address tried in turn) goes there.
    names['dual-own.test'] = ['127.0.0.1', PUBLIC];
    names['elsewhere.test'] = ['127.0.0.1'];
    names['as-public.test'] = [PUBLIC];
    const own = `http://dual-own.test:${up.port}`;
    up.issuer = own;
    up.resource = `${own}/mcp`;
    up.metadata = {
      issuer: own,
      // Where browsers go (never fetched by the gateway): https, as it must be on a host that is not loopback.
      authorization_endpoint: 'https://as-public.test/authorize',
      token_endpoint: `${own}/token`,
      registration_endpoint: `${own}/register`,
    };
    const c = client(`${own}/mcp`);
    const { url } = await c.authorizationUrl('state-own', 'v'.repeat(43));
    expect(url.origin).toBe('https://as-public.test');
    expect(up.hits).toContain('/register');
    // Counted as public (its least internal address): another host may not lead to loopback.
    up.metadata = { ...up.metadata, token_endpoint: `http://elsewhere.test:${up.port}/token` };
    const err = await client(`${own}/mcp`)
      .authorizationUrl('s', 'v'.repeat(43))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamEndpointRefused);
    expect((err as Error).message).toMatch(
      /token_endpoint http:\/\/elsewhere\.test:\d+ is refused: .*loopback/,
    );
  });

  it('each connection is checked again: a token endpoint whose name resolved to loopback at discovery and to the metadata endpoint later is refused, nothing sent', async () => {
    const up = await stubUpstream();
    names['tokens.test'] = ['127.0.0.1'];
    up.metadata = { token_endpoint: `http://tokens.test:${up.port}/token` };
    const c = client(up.resource);
    const tokens = { accessToken: 'at-1', refreshToken: 'rt-1', issuer: up.url, connectedAt: 1 };
    expect((await c.refresh(tokens)).accessToken).toBe('at-2');
    const sent = up.hits.filter((p) => p === '/token').length;
    names['tokens.test'] = ['169.254.169.254'];
    const err = await c.refresh(tokens).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AddressRefusedError);
    expect((err as Error).message).toBe('tokens.test resolves to 169.254.169.254, a cloud metadata address');
    expect(up.hits.filter((p) => p === '/token').length).toBe(sent);
  });

  it('a public upstream cannot send the gateway to 10.0.0.0/8, loopback, link-local, unique-local or the metadata endpoint; a private-network upstream may name its network, not loopback', async () => {
    names['mcp.public.test'] = [PUBLIC];
    names['intranet.test'] = ['10.0.0.5'];
    names['dual.test'] = [PUBLIC, '127.0.0.1'];
    names['tokens.public.test'] = [PUBLIC];
    names['tokens.private.test'] = ['10.0.0.1'];
    names['tokens.v6.test'] = ['fd12::1'];
    const fromPublic = withinReach(await configuredReach(new URL('https://mcp.public.test/mcp'), resolver));
    const refused = (token_endpoint: string, rule = fromPublic) =>
      refusedEndpoint({ token_endpoint }, rule, resolver);
    expect(await refused('https://tokens.public.test/token')).toBeUndefined();
    for (const [url, range] of [
      ['https://tokens.private.test/token', 'private (RFC 1918)'],
      ['https://127.0.0.1/token', 'loopback'],
      ['https://[::1]/token', 'loopback'],
      ['https://169.254.169.254/token', 'cloud metadata'],
      ['https://169.254.1.1/token', 'link-local'],
      ['https://tokens.v6.test/token', 'unique-local (fc00::/7)'],
      ['https://100.64.1.1/token', 'carrier-grade NAT (100.64.0.0/10)'],
    ] as const) {
      expect(await refused(url), url).toMatch(new RegExp(`a ${range.replace(/[()/.]/g, '\\$&')} address`));
    }
    // A host with a public and a loopback address counts as public.
    expect(await configuredReach(new URL('https://dual.test/mcp'), resolver)).toBe(0);
    const fromIntranet = withinReach(await configuredReach(new URL('http://intranet.test/mcp'), resolver));
    expect(await refused('http://tokens.private.test/token', fromIntranet)).toBeUndefined();
    expect(await refused('http://127.0.0.1/token', fromIntranet)).toMatch(/loopback/);
    expect(await refused('http://169.254.169.254/token', fromIntranet)).toMatch(/cloud metadata/);
  });
});
