import { describe, expect, it } from 'vitest';
import {
  basicCredentials,
  bearerToken,
  errorResponse,
  OAuthError,
  readForm,
  silentLogger,
} from '../../src/index.js';
import { json, nativeClient, testServer } from '../helpers/server.js';

describe('request bodies', () => {
  it('413 for a declared Content-Length over the limit, before reading', async () => {
    const { call } = testServer({ maxBodyBytes: 1024 });
    const res = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '5000' },
      body: 'x'.repeat(5000),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: 'invalid_request',
      error_description: 'request body exceeds 1024 bytes',
    });
  });

  it('413 for a streamed body that grows past the limit without Content-Length', async () => {
    const { call } = testServer({ maxBodyBytes: 1024 });
    const chunk = new TextEncoder().encode('a'.repeat(512));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 100) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(100);
  });

  it.each([
    [undefined, 415, /application\/json/],
    ['text/plain', 415, /application\/json/],
    ['application/x-www-form-urlencoded', 415, /application\/json/],
  ])('415 for content-type %s on registration', async (type, status, description) => {
    const { call } = testServer();
    const headers: Record<string, string> = type ? { 'content-type': type } : {};
    const res = await call('/register', { method: 'POST', headers, body: JSON.stringify(nativeClient) });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toMatch(description);
  });

  it.each([
    ['{', /not valid JSON/],
    ['[]', /JSON object/],
    ['null', /JSON object/],
    ['"str"', /JSON object/],
    ['', /not valid JSON/],
  ])('400 invalid_request for malformed JSON %j', async (raw, description) => {
    const { call } = testServer();
    const res = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(description) as string,
    });
  });

  it('400 for a body that is not UTF-8', async () => {
    const { call } = testServer();
    const res = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_description: 'request body is not valid UTF-8' });
  });

  it('rfc6749 §3.1: repeated form parameters are refused', async () => {
    const req = new Request('https://x.example/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=a&grant_type=b',
    });
    await expect(readForm(req, 1000)).rejects.toMatchObject({ error: 'invalid_request', status: 400 });
    const ok = new Request('https://x.example/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: 'grant_type=authorization_code&code=a%2Bb',
    });
    expect(await readForm(ok, 1000)).toEqual({ grant_type: 'authorization_code', code: 'a+b' });
  });
});

describe('credentials in headers', () => {
  const req = (authorization: string) => new Request('https://x.example/', { headers: { authorization } });
  it('bearer tokens come only from a well-formed Bearer header', () => {
    expect(bearerToken(req('Bearer abc.def-ghi_jkl~'))).toBe('abc.def-ghi_jkl~');
    expect(bearerToken(req('bearer abc'))).toBe('abc');
    expect(bearerToken(req('Bearer'))).toBeUndefined();
    expect(bearerToken(req('Bearer a b'))).toBeUndefined();
    expect(bearerToken(req('Basic abc'))).toBeUndefined();
  });
  it('rfc6749 §2.3.1: Basic credentials are form-decoded', () => {
    expect(basicCredentials(req(`Basic ${btoa('my%20id:s%3Acret+x')}`))).toEqual({
      id: 'my id',
      secret: 's:cret x',
    });
    expect(basicCredentials(req('Basic !!!'))).toBeNull();
    expect(basicCredentials(req(`Basic ${btoa('nocolon')}`))).toBeNull();
    expect(basicCredentials(req(`Basic ${btoa('%E0%A4%A:x')}`))).toBeNull();
    expect(basicCredentials(req('Bearer x'))).toBeUndefined();
  });
});

describe('error responses', () => {
  it('OAuthError renders {error, error_description} with its status and headers', async () => {
    const res = new OAuthError('invalid_token', 'expired', {
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    }).toResponse();
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'expired' });
  });

  it('unknown errors become 500 server_error without leaking the message', async () => {
    const res = errorResponse(new Error('db password is hunter2'), silentLogger);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toEqual({ error: 'server_error', error_description: 'internal error' });
  });

  it('a failing store answers 500 server_error, never the store error', async () => {
    const { call, server } = testServer();
    server.store.set = () => Promise.reject(new Error('redis: NOAUTH secret-ish detail'));
    const res = await call('/register', json(nativeClient));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('NOAUTH');
  });
});
