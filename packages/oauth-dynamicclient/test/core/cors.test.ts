import { describe, expect, it } from 'vitest';
import { corsHeaders, preflight, withCors } from '../../src/index.js';

const from = (origin: string | undefined, headers: Record<string, string> = {}) =>
  new Request('https://as.example/token', {
    method: 'OPTIONS',
    headers: { ...(origin ? { origin } : {}), ...headers },
  });

describe('CORS helpers (the AS endpoints and, with options, the gateway MCP endpoints)', () => {
  it('defaults: any origin as *, WWW-Authenticate, Retry-After and DPoP-Nonce exposed, no Vary', () => {
    expect(corsHeaders('https://app.example', {})).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'www-authenticate, retry-after, dpop-nonce',
    });
    expect(corsHeaders(null, {})).toEqual({});
    const res = withCors(from('https://app.example'), new Response('x', { headers: { vary: 'Accept' } }), {
      origins: ['https://app.example'],
    });
    expect([res.headers.get('access-control-allow-origin'), res.headers.get('vary')]).toEqual([
      'https://app.example',
      'Accept, Origin',
    ]);
    const pre = preflight(from('https://app.example'), ['POST'], {});
    expect([pre.status, pre.headers.get('access-control-allow-methods')]).toEqual([204, 'POST, OPTIONS']);
    expect(
      preflight(from('https://evil.example'), ['POST'], { origins: [] }).headers.get(
        'access-control-allow-origin',
      ),
    ).toBeNull();
  });

  it('options: echoed origin with Vary, own exposed headers, allowed headers from the request, 403 for others', () => {
    const opts = {
      origins: (o: string) => o !== 'https://evil.example',
      echoOrigin: true,
      exposeHeaders: ['Mcp-Session-Id', 'WWW-Authenticate'],
      allowHeaders: (requested: string | null) => ['Authorization', ...(requested ? [requested] : [])],
      refuseDisallowed: true,
    };
    expect(corsHeaders('https://app.example', opts)).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
      vary: 'Origin',
    });
    expect(
      corsHeaders('https://app.example', { origins: '*', echoOrigin: true })['access-control-allow-origin'],
    ).toBe('https://app.example');
    const pre = preflight(
      from('https://app.example', { 'access-control-request-headers': 'mcp-param-x' }),
      ['GET'],
      opts,
    );
    expect(Object.fromEntries(pre.headers)).toMatchObject({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-headers': 'Authorization, mcp-param-x',
      'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate',
      vary: 'Origin',
    });
    expect(preflight(from('https://evil.example'), ['GET'], opts).status).toBe(403);
    expect(preflight(from(undefined), ['GET'], opts).status).toBe(403);
  });
});
