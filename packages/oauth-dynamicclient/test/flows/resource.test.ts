import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokenVerifier } from '../../src/resource/remote-verifier.js';
import { withBearer } from '../../src/resource/require-bearer.js';
import { InvalidTokenError } from '../../src/tokens/errors.js';
import { html } from '../../src/pages/html.js';
import { issueAccessToken, localUsers, startAs, type TestAs, TEST_PASSWORD_COST } from './helpers.js';

let t: TestAs;
beforeAll(async () => {
  // Declarative identity-provider configuration, as a config file would give it.
  t = await startAs({
    identityProvider: { type: 'local', users: await localUsers(), passwordCost: TEST_PASSWORD_COST },
  });
});
afterAll(() => t.close());

const accessToken = () => issueAccessToken(t);

describe('resource servers apart from the authorization server', () => {
  it('createAccessTokenVerifier: keys from /jwks; revocation only with the shared store', async () => {
    const { access_token } = await accessToken();
    const remote = createAccessTokenVerifier({ issuer: t.url });
    const shared = createAccessTokenVerifier({ issuer: t.url, store: t.as.store });
    expect((await remote(access_token, { resource: t.resource })).login).toBe('alice');
    await shared(access_token, { resource: t.resource });
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()) as {
      client_id: string;
    };
    const revoke = await t.as.fetch(
      new Request(`${t.url}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token: access_token,
          client_id: claims.client_id,
        }),
      }),
    );
    expect(revoke.status).toBe(200);
    await expect(shared(access_token, { resource: t.resource })).rejects.toMatchObject({ reason: 'revoked' });
    // Without the store a remote verifier cannot know: it still accepts until expiry.
    expect((await remote(access_token, { resource: t.resource })).sub).toBe('local:alice');
    // Another issuer's verifier refuses it.
    const wrongIssuer = createAccessTokenVerifier({ issuer: `${t.url}/other`, jwksUri: `${t.url}/jwks` });
    const err = await wrongIssuer(access_token, { resource: t.resource }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTokenError);
    expect((err as InvalidTokenError).reason).toBe('issuer');
  });

  it('withBearer wraps a fetch handler; /jwks is public, CORS-enabled and tracks rotation', async () => {
    const handler = withBearer(t.as.verifyAccessToken, { resource: t.resource }, (_req, token) =>
      Response.json({ user: token.login }),
    );
    const { access_token } = await accessToken();
    const ok = await handler(
      new Request(t.resource, { headers: { authorization: `Bearer ${access_token}` } }),
    );
    expect(await ok.json()).toEqual({ user: 'alice' });
    const denied = await handler(new Request(t.resource, { headers: { authorization: 'Basic abc' } }));
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

    const before = (await (
      await fetch(`${t.url}/jwks`, { headers: { origin: 'https://app.example' } })
    ).json()) as {
      keys: { kid: string; d?: string }[];
    };
    const kid = await t.as.keys.rotate('RS256');
    const res = await fetch(`${t.url}/jwks`, { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const after = (await res.json()) as { keys: { kid: string; kty: string; d?: string }[] };
    expect(after.keys.map((k) => k.kid)).toEqual([kid, ...before.keys.map((k) => k.kid)]);
    expect(after.keys[0]!.kty).toBe('RSA');
    expect(after.keys.every((k) => k.d === undefined)).toBe(true);
    // Old tokens still verify; new ones are RS256.
    expect((await t.as.verifyAccessToken(access_token, { resource: t.resource })).login).toBe('alice');
    const fresh = await accessToken();
    expect(JSON.parse(Buffer.from(fresh.access_token.split('.')[0]!, 'base64url').toString())).toMatchObject({
      alg: 'RS256',
      kid,
    });
  });
});

describe('pages.render restyle hook', () => {
  it('replaces a page body, keeps the security headers, and html`` escapes what it interpolates', async () => {
    const s = await startAs({
      identityProvider: { type: 'local', users: await localUsers(), passwordCost: TEST_PASSWORD_COST },
      pages: {
        render: (m) =>
          m.kind === 'login' ? html`<p id="custom">Sign in, ${m.fields.state ?? ''}</p>` : undefined,
      },
    });
    try {
      const res = await fetch(`${s.url}/login?state=${encodeURIComponent('<b>x</b>')}`);
      const body = await res.text();
      expect(body).toContain('<p id="custom">Sign in, &lt;b&gt;x&lt;/b&gt;</p>');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      // Pages the hook leaves alone keep the built-in markup.
      const err = await fetch(`${s.url}/callback?state=nope`);
      expect(await err.text()).toContain('Something went wrong');
    } finally {
      await s.close();
    }
  });
});
