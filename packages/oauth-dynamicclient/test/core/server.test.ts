import { describe, expect, it } from 'vitest';
import { createAuthorizationServer, OptionsError } from '../../src/index.js';
import { json, nativeClient, testServer } from '../helpers/server.js';

describe('options', () => {
  it('invalid options throw an OptionsError naming the field', () => {
    expect(() => createAuthorizationServer({ issuer: 'ftp://x' })).toThrow(OptionsError);
    expect(() => createAuthorizationServer({ issuer: 'http://as.example.com' })).toThrow(/issuer/);
    expect(() => createAuthorizationServer({ issuer: 'https://as.example.com?x=1' })).toThrow(
      /query or fragment/,
    );
    expect(() => createAuthorizationServer({ issuer: 'https://as.example.com', maxBodyBytes: -1 })).toThrow(
      /maxBodyBytes/,
    );
    expect(() => createAuthorizationServer({ issuer: 'https://as.example.com', bogus: 1 } as never)).toThrow(
      /bogus/,
    );
  });

  it('the issuer loses its trailing slash', () => {
    expect(createAuthorizationServer({ issuer: 'https://as.example.com/auth/' }).issuer).toBe(
      'https://as.example.com/auth',
    );
  });
});

describe('router', () => {
  it('unknown paths answer 404 not_found as JSON', async () => {
    const { call } = testServer();
    const res = await call('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
  });

  it('wrong methods answer 405 with Allow', async () => {
    const { call } = testServer();
    const res = await call('/register', { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('cors: preflight on registration answers 204 with allowed methods and headers', async () => {
    const { call } = testServer();
    const res = await call('/register', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('cors: configured origins only; errors carry CORS headers and expose WWW-Authenticate', async () => {
    const { call } = testServer({ cors: { origins: ['https://good.example'] } });
    const bad = await call('/register', { ...json({}), headers: { origin: 'https://evil.example' } });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const good = await call('/register/abc', { headers: { origin: 'https://good.example' } });
    expect(good.status).toBe(401);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example');
    expect(good.headers.get('access-control-expose-headers')).toContain('www-authenticate');
    expect(good.headers.get('vary')).toContain('Origin');
  });
});

describe('rfc7591 smoke', () => {
  it('registers a public client and reads it back through RFC 7592', async () => {
    const { call } = testServer();
    const res = await call('/register', json(nativeClient));
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.client_secret).toBeUndefined();
    const read = await call(`/register/${body.client_id as string}`, {
      headers: { authorization: `Bearer ${body.registration_access_token as string}` },
    });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { client_id: string }).client_id).toBe(body.client_id);
  });
});
