import { challengeParams, parseWwwAuthenticate } from '@mcp-gateway/testkit';
import { describe, expect, it } from 'vitest';
import {
  bearerFromHeader,
  parseAuthorization,
  protectedResourceDocument,
  readBearer,
  resourceChallenge,
  schemeChallenge,
} from '../../src/index.js';

const resourceMetadata = 'https://rs.example/.well-known/oauth-protected-resource/mcp';
const input = { resourceMetadata, scopes: ['mcp'] };
const refused = { ...input, error: 'invalid_token' as const, description: 'token expired' };
const algs = ['ES256', 'EdDSA'];

describe('resourceChallenge: the WWW-Authenticate value of a resource (rfc6750 §3, rfc9449 §7.1)', () => {
  it('rfc6750 §3: without DPoP, one Bearer challenge with resource_metadata and scope', () => {
    expect(resourceChallenge(input)).toBe(`Bearer scope="mcp", resource_metadata="${resourceMetadata}"`);
    expect(challengeParams(resourceChallenge(refused))).toEqual({
      Bearer: {
        ...{ scope: 'mcp', resource_metadata: resourceMetadata },
        error: 'invalid_token',
        error_description: 'token expired',
      },
    });
  });

  it('rfc9449 §7.1: a resource accepting both offers Bearer first, then DPoP with the same parameters', () => {
    const header = resourceChallenge(input, { dpop: { algs } });
    expect(parseWwwAuthenticate(header)).toEqual([
      { scheme: 'Bearer', params: { scope: 'mcp', resource_metadata: resourceMetadata } },
      { scheme: 'DPoP', params: { algs: 'ES256 EdDSA', scope: 'mcp', resource_metadata: resourceMetadata } },
    ]);
  });

  it('rfc9449 §7.1: the error goes on the scheme the client used', () => {
    const onBearer = challengeParams(resourceChallenge(refused, { dpop: { algs } }));
    expect([onBearer.Bearer?.error, onBearer.DPoP?.error]).toEqual(['invalid_token', undefined]);
    const onDpop = challengeParams(resourceChallenge(refused, { dpop: { algs, errorOnDpop: true } }));
    expect([onDpop.Bearer?.error, onDpop.DPoP?.error]).toEqual([undefined, 'invalid_token']);
    expect(onDpop.DPoP?.error_description).toBe('token expired');
    expect(onDpop.Bearer).toEqual({ scope: 'mcp', resource_metadata: resourceMetadata });
  });

  it('rfc9449 §7.1: when DPoP is required, only the DPoP challenge, carrying the error', () => {
    const header = resourceChallenge(refused, { dpop: { algs, required: true } });
    expect(parseWwwAuthenticate(header)).toEqual([
      {
        scheme: 'DPoP',
        params: {
          algs: 'ES256 EdDSA',
          error: 'invalid_token',
          error_description: 'token expired',
          scope: 'mcp',
          resource_metadata: resourceMetadata,
        },
      },
    ]);
  });

  it('rfc9110 §11.2: descriptions are quoted-strings (quotes and backslashes escaped, controls dropped)', () => {
    const header = resourceChallenge({ ...refused, description: 'a "b" \\ c\r\nd' }, { dpop: { algs } });
    expect(challengeParams(header).Bearer?.error_description).toBe('a "b" \\ cd');
  });

  it('schemeChallenge: a refusal by requireBearer names the one scheme the request used', () => {
    expect(schemeChallenge(refused, {})).toBe(resourceChallenge(refused));
    expect(Object.keys(challengeParams(schemeChallenge(refused, { dpop: { algs } })))).toEqual(['DPoP']);
  });
});

describe('bearerFromHeader: the one Bearer parser (rfc6750 §2.1)', () => {
  it('takes a token68 after the Bearer scheme, case-insensitively, and nothing else', () => {
    expect(bearerFromHeader('Bearer abc.DEF-_~+/==')).toBe('abc.DEF-_~+/==');
    expect(bearerFromHeader('bearer  abc ')).toBe('abc');
    for (const value of ['DPoP abc', 'Basic abc', 'Bearer a b', 'Bearer', 'Bearer a"b', '', null, undefined])
      expect([value, bearerFromHeader(value)]).toEqual([value, undefined]);
    expect(parseAuthorization('DPoP abc')).toEqual({ scheme: 'DPoP', token: 'abc' });
    expect(readBearer(new Request('https://rs.example/', { headers: { authorization: 'Bearer t' } }))).toBe(
      't',
    );
  });
});

describe('protectedResourceDocument (rfc9728 §2, §3.1)', () => {
  it('builds the document and its well-known path, with the DPoP members when asked', () => {
    const plain = protectedResourceDocument({
      resource: 'https://rs.example/mcp',
      authorizationServers: ['https://as.example'],
      scopes: ['mcp'],
      name: 'Notes',
    });
    expect(plain).toEqual({
      path: '/.well-known/oauth-protected-resource/mcp',
      document: {
        resource: 'https://rs.example/mcp',
        authorization_servers: ['https://as.example'],
        scopes_supported: ['mcp'],
        bearer_methods_supported: ['header'],
        resource_name: 'Notes',
      },
    });
    const dpop = protectedResourceDocument({
      resource: 'https://rs.example/mcp',
      authorizationServers: ['https://as.example'],
      dpop: { algorithms: algs, required: true },
    }).document;
    expect(dpop).toMatchObject({
      dpop_signing_alg_values_supported: algs,
      dpop_bound_access_tokens_required: true,
    });
    const optional = protectedResourceDocument({
      resource: 'https://rs.example/mcp',
      authorizationServers: ['https://as.example'],
      dpop: { algorithms: algs },
    }).document;
    expect('dpop_bound_access_tokens_required' in optional).toBe(false);
  });
});
