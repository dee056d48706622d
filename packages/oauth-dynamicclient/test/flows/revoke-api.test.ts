import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../../src/tokens/errors.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { Browser, completeLogin, localUsers, startAs } from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';

describe('as.tokens.revoke: the typed sign-out API', () => {
  it('revokes the access token and its refresh family; a foreign or malformed token answers false', async () => {
    const s = await startAs({ identityProvider: localIdentityProvider({ users: await localUsers() }) });
    try {
      const reg = await s.as.clients.register({
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        client_name: 'revoke api test',
      });
      const clientId = reg.client.client_id;
      const verifier = 'v'.repeat(43);
      const challenge = Buffer.from(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
      ).toString('base64url');
      const url = new URL(`${s.url}/authorize`);
      url.search = new URLSearchParams({
        client_id: clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        state: 'st',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString();
      const cb = await completeLogin(new Browser(), url.href, REDIRECT);
      const tokenRes = await fetch(`${s.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: cb.searchParams.get('code')!,
          redirect_uri: REDIRECT,
          client_id: clientId,
          code_verifier: verifier,
        }),
      });
      const tokens = (await tokenRes.json()) as { access_token: string; refresh_token: string };
      await s.as.verifyAccessToken(tokens.access_token, { resource: s.resource });

      expect(await s.as.tokens.revoke(tokens.access_token)).toBe(true);
      const err = await s.as.verifyAccessToken(tokens.access_token, { resource: s.resource }).catch((e) => e);
      expect(err).toBeInstanceOf(InvalidTokenError);
      const refreshed = await fetch(`${s.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: clientId,
        }),
      });
      expect([refreshed.status, ((await refreshed.json()) as { error: string }).error]).toEqual([
        400,
        'invalid_grant',
      ]);
      expect(await s.as.tokens.revoke('not.a.token')).toBe(false);
      expect(s.audit.some((a) => a.type === 'token.revoked')).toBe(true);
    } finally {
      await s.close();
    }
  });
});
