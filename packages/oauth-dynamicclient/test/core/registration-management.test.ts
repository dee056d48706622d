import { describe, expect, it } from 'vitest';
import { json, nativeClient, testServer } from '../helpers/server.js';

type Body = Record<string, unknown>;

async function setup(metadata: unknown = { redirect_uris: ['https://app.example/cb'], client_name: 'App' }) {
  const t = testServer();
  const res = await t.call('/register', json(metadata));
  const reg = (await res.json()) as Body;
  const id = reg.client_id as string;
  const rat = reg.registration_access_token as string;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  return { ...t, reg, id, rat, auth, path: `/register/${id}` };
}

describe('rfc7592 client configuration endpoint', () => {
  it('rfc7592: GET returns the registered metadata with no-store and no secret', async () => {
    const { call, path, rat, auth, reg } = await setup();
    const res = await call(path, { headers: auth(rat) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Body;
    expect(body).toMatchObject({
      client_id: reg.client_id,
      client_name: 'App',
      redirect_uris: ['https://app.example/cb'],
      registration_client_uri: reg.registration_client_uri,
      client_secret_expires_at: 0,
    });
    expect(body).not.toHaveProperty('client_secret');
  });

  it('rfc7592: wrong token and unknown client answer the same 401', async () => {
    const { call, path, rat, auth } = await setup();
    const wrong = await call(path, { headers: auth('x'.repeat(43)) });
    const unknown = await call('/register/does-not-exist', { headers: auth(rat) });
    const otherClientsToken = await setup();
    const crossed = await call(path, { headers: auth(otherClientsToken.rat) });
    for (const res of [wrong, unknown, crossed]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
    const bodies = await Promise.all([wrong, unknown, crossed].map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]!)).toEqual({
      error: 'invalid_token',
      error_description: 'invalid or expired token',
    });
  });

  it('rfc7592: a missing or non-Bearer Authorization answers 401 with a bare Bearer challenge', async () => {
    const { call, path, rat } = await setup();
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Basic ${btoa(`a:${rat}`)}` },
      { authorization: rat },
    ]) {
      const res = await call(path, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ error: 'invalid_token' });
    }
  });

  it('rfc7592: PUT replaces metadata (omitted fields reset to defaults) and rotates the registration access token', async () => {
    const { call, path, rat, auth, id, audit } = await setup({
      redirect_uris: ['https://app.example/cb'],
      client_name: 'App',
      client_uri: 'https://app.example',
    });
    const res = await call(path, {
      ...json({
        client_id: id,
        redirect_uris: ['https://app.example/cb2'],
        token_endpoint_auth_method: 'client_secret_post',
      }),
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth(rat) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Body;
    expect(body).toMatchObject({
      client_id: id,
      redirect_uris: ['https://app.example/cb2'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(body).not.toHaveProperty('client_name');
    expect(body).not.toHaveProperty('client_uri');
    expect(body).not.toHaveProperty('client_secret'); // kept, not re-issued
    const newRat = body.registration_access_token as string;
    expect(newRat).not.toBe(rat);

    // token reuse after rotation
    const old = await call(path, { headers: auth(rat) });
    expect(old.status).toBe(401);
    expect(await old.json()).toEqual({
      error: 'invalid_token',
      error_description: 'invalid or expired token',
    });
    expect((await call(path, { headers: auth(newRat) })).status).toBe(200);
    expect(audit.some((e) => e.type === 'client.updated' && e.clientId === id)).toBe(true);
  });

  it('rfc7592: the old client secret keeps working after PUT; a public client turning confidential gets one', async () => {
    const confidential = await setup();
    const put = await confidential.call(confidential.path, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...confidential.auth(confidential.rat) },
      body: JSON.stringify({ client_id: confidential.id, redirect_uris: ['https://app.example/cb'] }),
    });
    expect(put.status).toBe(200);
    const client = await confidential.server.clients.get(confidential.id);
    expect(
      await confidential.server.context.clients.verifyClientSecret(
        client!,
        confidential.reg.client_secret as string,
      ),
    ).toBe(true);

    const pub = await setup(nativeClient);
    const res = await pub.call(pub.path, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...pub.auth(pub.rat) },
      body: JSON.stringify({
        client_id: pub.id,
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    const body = (await res.json()) as Body;
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.client_secret_expires_at).toBe(0);
  });

  const cb = ['https://app.example/cb'];
  it.each<[string, (id: string) => Body, number, string, RegExp]>([
    ['client_id missing', () => ({ redirect_uris: cb }), 400, 'invalid_request', /client_id/],
    [
      'client_id of another client',
      () => ({ client_id: 'other', redirect_uris: cb }),
      400,
      'invalid_request',
      /client_id/,
    ],
    [
      'registration_access_token sent',
      (id) => ({ client_id: id, registration_access_token: 'x', redirect_uris: cb }),
      400,
      'invalid_request',
      /registration_access_token/,
    ],
    [
      'client_id_issued_at sent',
      (id) => ({ client_id: id, client_id_issued_at: 1, redirect_uris: cb }),
      400,
      'invalid_request',
      /client_id_issued_at/,
    ],
    [
      'wrong client_secret',
      (id) => ({ client_id: id, client_secret: 'wrong', redirect_uris: cb }),
      400,
      'invalid_request',
      /client_secret/,
    ],
    [
      'http redirect to a remote host',
      (id) => ({ client_id: id, redirect_uris: ['http://evil.example/cb'] }),
      400,
      'invalid_redirect_uri',
      /http is allowed only/,
    ],
  ])('rfc7592: PUT with %s answers %i %s', async (_name, makeBody, status, error, description) => {
    const { call, path, rat, auth, id } = await setup();
    const res = await call(path, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth(rat) },
      body: JSON.stringify(makeBody(id)),
    });
    expect(res.status).toBe(status);
    const out = (await res.json()) as Body;
    expect(out.error).toBe(error);
    expect(out.error_description).toMatch(description);
    // a refused update rotates nothing: the token still works
    expect((await call(path, { headers: auth(rat) })).status).toBe(200);
  });

  it('rfc7592: DELETE answers 204, runs the deletion hook, and the client is gone for good', async () => {
    const { call, path, rat, auth, id, server, audit } = await setup();
    const hooked: string[] = [];
    server.context.clients.onDeleted((clientId, reason) => void hooked.push(`${clientId}:${reason}`));
    const res = await call(path, { method: 'DELETE', headers: auth(rat) });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(hooked).toEqual([`${id}:rfc7592`]);
    expect(await server.clients.get(id)).toBeUndefined();
    expect(await server.clients.list()).not.toContain(id);
    expect(audit.some((e) => e.type === 'client.deleted' && e.reason === 'rfc7592')).toBe(true);
    const again = await call(path, { method: 'DELETE', headers: auth(rat) });
    expect(again.status).toBe(401);
  });

  it('rfc7592: after DELETE the token endpoint answers 401 invalid_client so the client re-registers', async () => {
    const confidential = await setup();
    const pub = await setup(nativeClient);
    const tokenRequest = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      confidential.call('/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
      });
    const basic = `Basic ${btoa(`${confidential.id}:${confidential.reg.client_secret as string}`)}`;
    // Before: the client authenticates (the grant itself is bad).
    const before = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: basic },
    );
    expect(((await before.json()) as { error: string }).error).not.toBe('invalid_client');

    expect(
      (
        await confidential.call(confidential.path, {
          method: 'DELETE',
          headers: confidential.auth(confidential.rat),
        })
      ).status,
    ).toBe(204);
    const after = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: basic },
    );
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: string }).error).toBe('invalid_client');

    expect((await pub.call(pub.path, { method: 'DELETE', headers: pub.auth(pub.rat) })).status).toBe(204);
    const publicAfter = await pub.call('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: pub.id,
      }).toString(),
    });
    expect(publicAfter.status).toBe(401);
    expect(((await publicAfter.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('rfc7592: client ids with reserved characters are percent-decoded from the path', async () => {
    const { call, rat, auth } = await setup();
    const res = await call('/register/%E0%A4%A', { headers: auth(rat) });
    expect(res.status).toBe(404);
    const res2 = await call('/register/a%2Fb', { headers: auth(rat) });
    expect(res2.status).toBe(401);
  });
});
