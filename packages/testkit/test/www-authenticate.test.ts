import { describe, expect, it } from 'vitest';
import { challengeParams, parseWwwAuthenticate } from '../src/www-authenticate.js';

describe('parseWwwAuthenticate (RFC 9110 §11.6.1)', () => {
  it('reads two challenges with quoted and token parameters, in any order', () => {
    const header =
      'Bearer scope="mcp", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", ' +
      'DPoP algs="ES256 EdDSA", error=invalid_token, error_description="a \\"bad\\" token, refused"';
    expect(parseWwwAuthenticate(header)).toEqual([
      {
        scheme: 'Bearer',
        params: { scope: 'mcp', resource_metadata: 'https://h/.well-known/oauth-protected-resource/mcp' },
      },
      {
        scheme: 'DPoP',
        params: { algs: 'ES256 EdDSA', error: 'invalid_token', error_description: 'a "bad" token, refused' },
      },
    ]);
  });

  it('reads challenges without parameters, and parameters by scheme', () => {
    expect(parseWwwAuthenticate('Bearer, DPoP algs="ES256"')).toEqual([
      { scheme: 'Bearer', params: {} },
      { scheme: 'DPoP', params: { algs: 'ES256' } },
    ]);
    expect(challengeParams('Bearer realm="metrics"')).toEqual({ Bearer: { realm: 'metrics' } });
    expect(parseWwwAuthenticate(null)).toEqual([]);
  });

  it('refuses what is not a challenge list', () => {
    expect(() => parseWwwAuthenticate('Bearer scope="unterminated')).toThrow(TypeError);
    expect(() => parseWwwAuthenticate('Bearer scope="a" junk="b" "x"')).toThrow(TypeError);
  });
});
