import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import { flowServices } from '../endpoints/flow-services.js';
import { invalidGrant, invalidRequest, invalidTarget } from '../http/errors.js';
import { noStoreJson } from '../http/responses.js';
import { canonicalResource } from '../resource/canonical.js';
import type { AuthorizationCodeRecord } from '../tokens/codes.js';
import { assertSameKey, tokenType, type TokenBinding } from '../dpop/token-binding.js';

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  let bin = '';
  for (const b of new Uint8Array(digest)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * What the token request must match of the code's authorization request:
 * its client, `redirect_uri`, PKCE verifier, `resource`, and the `dpop_jkt`
 * key. Reads nothing from the store.
 */
async function checkCode(
  rec: AuthorizationCodeRecord,
  client: Client,
  form: Record<string, string>,
  binding: TokenBinding,
): Promise<void> {
  if (rec.clientId !== client.client_id)
    throw invalidGrant('authorization code was issued to another client');
  const redirectUri = form.redirect_uri;
  if (
    rec.redirectUriExplicit
      ? redirectUri !== rec.redirectUri
      : redirectUri !== undefined && redirectUri !== rec.redirectUri
  ) {
    throw invalidGrant('redirect_uri does not match the authorization request');
  }
  const verifier = form.code_verifier!;
  if (!PKCE_VERIFIER.test(verifier) || (await s256(verifier)) !== rec.codeChallenge) {
    throw invalidGrant('PKCE verification failed');
  }
  if (form.resource !== undefined && canonicalResource(form.resource) !== canonicalResource(rec.resource)) {
    throw invalidTarget('resource differs from the authorization request');
  }
  assertSameKey(rec.dpopJkt, binding, 'authorization code');
}

/**
 * The `authorization_code` grant (OAuth 2.1 §4.1.3) with PKCE: single-use
 * codes (a replayed code revokes what it issued), redirect URI and RFC 8707
 * resource bound to the authorization request. A refresh token is issued when
 * the client registered the `refresh_token` grant. A code issued for a
 * `dpop_jkt` needs a proof of that key (RFC 9449 §10); a public client's
 * refresh token is bound to the proof's key (§5).
 */
export async function authorizationCodeGrant(
  ctx: ServerContext,
  client: Client,
  form: Record<string, string>,
  binding: TokenBinding,
): Promise<Response> {
  const flows = flowServices(ctx);
  const issueRefresh = ctx.clients.isGrantAllowed(client, 'refresh_token');
  const code = form.code;
  if (!code) throw invalidRequest('code is required');
  if (!form.code_verifier) throw invalidRequest('code_verifier is required (PKCE)');
  // The proof's jti is recorded only for a code that would be redeemed, and before it is: an invalid
  // code writes no replay entry, and a replayed proof is refused with the code still unused.
  const unredeemed = await flows.codes.peek(code);
  if (
    unredeemed &&
    (await checkCode(unredeemed, client, form, binding).then(
      () => true,
      () => false,
    ))
  )
    await binding.recordProof?.();
  const redemption = await flows.codes.redeem(code);
  if (redemption.status === 'replayed') {
    await flows.refresh.revokeFamily(redemption.familyId);
    ctx.audit.emit('code.replayed', {
      clientId: redemption.clientId,
      sub: redemption.sub,
      familyId: redemption.familyId,
    });
    throw invalidGrant('authorization code already used; tokens issued from it have been revoked');
  }
  if (redemption.status === 'invalid') throw invalidGrant('authorization code invalid or expired');
  const rec = redemption.record;
  // A code that fails a check is still used up (as the redemption above did).
  await checkCode(rec, client, form, binding);
  await binding.recordProof?.();
  const access = await flows.accessTokens.issue({
    sub: rec.sub,
    clientId: client.client_id,
    resource: rec.resource,
    scopes: rec.scopes,
    familyId: rec.familyId,
    ...(rec.login !== undefined ? { login: rec.login } : {}),
    ...(rec.name !== undefined ? { name: rec.name } : {}),
    ...(rec.groups !== undefined ? { groups: rec.groups } : {}),
    ...(binding.jkt ? { jkt: binding.jkt } : {}),
  });
  const family = {
    familyId: rec.familyId,
    grantId: rec.grantId,
    clientId: client.client_id,
    sub: rec.sub,
  };
  let refreshToken: string | undefined;
  if (issueRefresh) {
    refreshToken = await flows.refresh.issue({
      ...family,
      resource: rec.resource,
      scopes: rec.scopes,
      ...(rec.login !== undefined ? { login: rec.login } : {}),
      ...(rec.name !== undefined ? { name: rec.name } : {}),
      ...(rec.groups !== undefined ? { groups: rec.groups } : {}),
      ...(binding.jkt && client.metadata.token_endpoint_auth_method === 'none' ? { jkt: binding.jkt } : {}),
    });
  } else await flows.refresh.recordFamily(family);
  await flows.addFamily({ id: rec.grantId, clientId: client.client_id }, rec.familyId);
  await ctx.clients.touch(client.client_id);
  ctx.audit.emit('token.issued', {
    clientId: client.client_id,
    sub: rec.sub,
    familyId: rec.familyId,
    jti: access.jti,
    scopes: rec.scopes,
    resource: rec.resource,
    refresh: refreshToken !== undefined,
  });
  return noStoreJson({
    access_token: access.token,
    token_type: tokenType(binding),
    expires_in: access.expiresIn,
    scope: rec.scopes.join(' '),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  });
}
