import { afterEach, describe, expect, it, vi } from 'vitest';
import { OptionsError, parseOptions } from '../../src/options.js';

const base = { issuer: 'https://as.example.com', resources: [{ resource: 'https://rs.example.com/mcp' }] };
const off = Object.fromEntries(
  ['register', 'registrationManagement', 'authorize', 'token', 'login', 'default'].map((b) => [b, false]),
);

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('rate limits on a runtime without a peer address (Workers)', () => {
  it('node: no rateLimitSource needed (the adapter passes the peer address)', () => {
    expect(() => parseOptions(base)).not.toThrow();
  });

  it('Workers: no rateLimitSource fails at construction, naming the option and a fix', () => {
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' });
    const err = (() => {
      try {
        parseOptions(base);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as OptionsError).message).toContain('rateLimitSource is required on Cloudflare Workers');
    expect((err as OptionsError).message).toContain('cf-connecting-ip');
    expect((err as OptionsError).issues[0]!.path).toEqual(['rateLimitSource']);
  });

  it('Workers: accepted with rateLimitSource, with trusted proxy hops, or with every limit off', () => {
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' });
    expect(() => parseOptions({ ...base, rateLimitSource: () => 'x' })).not.toThrow();
    expect(() => parseOptions({ ...base, trustProxyHops: 1 })).not.toThrow();
    expect(() => parseOptions({ ...base, rateLimits: off })).not.toThrow();
    expect(() =>
      parseOptions({ ...base, rateLimits: { ...off, token: { limit: 1, windowMs: 1000 } } }),
    ).toThrow(OptionsError);
  });
});
