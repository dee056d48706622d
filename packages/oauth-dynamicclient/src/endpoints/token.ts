import type { Client } from '../clients/records.js';
import type { Route, ServerContext } from '../context.js';
import { basicCredentials, readForm } from '../http/body.js';
import {
  invalidClient,
  invalidGrant,
  invalidRequest,
  invalidScope,
  invalidTarget,
  unsupportedGrantType,
} from '../http/errors.js';
import { noStoreJson } from '../http/responses.js';
import { canonicalResource } from '../resource/canonical.js';
import { verifySecret } from '../secrets.js';
import { flowServices } from './flow-services.js';

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Authenticates the client of a token, revocation or introspection request by
 * its registered method (`client_secret_basic`, `client_secret_post`, or
 * `none` with just `client_id`). Unknown clients, wrong secrets and the wrong
 * method all answer `401 invalid_client`.
 */
export async function authenticateClient(
  ctx: ServerContext,
  request: Request,
  form: Record<string, string>,
  opts: { requireSecret?: boolean } = {},
): Promise<Client> {
  const basic = basicCredentials(request);
  if (basic === null) throw invalidClient('malformed Basic credentials');
  if (basic && form.client_secret !== undefined) throw invalidRequest('use one client authentication method');
  if (basic && form.client_id !== undefined && form.client_id !== basic.id)
    throw invalidRequest('client_id mismatch');
  const clientId = basic?.id ?? form.client_id;
  if (!clientId) throw invalidClient('client authentication required');
  const client = await ctx.clients.get(clientId);
  const method = basic
    ? 'client_secret_basic'
    : form.client_secret !== undefined
      ? 'client_secret_post'
      : 'none';
  const secret = basic?.secret ?? form.client_secret ?? '';
  // Do the same work for unknown clients as for wrong secrets.
  const ok =
    client !== undefined &&
    client.metadata.token_endpoint_auth_method === method &&
    (method === 'none' ? !opts.requireSecret : await ctx.clients.verifyClientSecret(client, secret));
  if (!ok) {
    if (!client && method !== 'none') await verifySecret(secret, undefined);
    throw invalidClient('client authentication failed');
  }
  return client;
}

function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return [...new Set(value.split(' ').filter(Boolean))];
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  let bin = '';
  for (const b of new Uint8Array(digest)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * `POST /token` (OAuth 2.1 §3.2): `authorization_code` with PKCE and
 * `refresh_token` with rotation. Access tokens are RFC 9068 JWTs; a refresh
 * token is issued when the client registered the `refresh_token` grant.
 */
export function tokenRoutes(ctx: ServerContext): Route[] {
  const handler = async (request: Request): Promise<Response> => {
    const flows = flowServices(ctx);
    const form = await readForm(request, ctx.options.maxBodyBytes);
    const client = await authenticateClient(ctx, request, form);
    const grantType = form.grant_type;
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      throw grantType
        ? unsupportedGrantType(`unsupported grant_type`)
        : invalidRequest('grant_type is required');
    }
    ctx.clients.assertGrantAllowed(client, grantType);
    const issueRefresh = ctx.clients.isGrantAllowed(client, 'refresh_token');
    const requestedResource = form.resource;

    if (grantType === 'authorization_code') {
      const code = form.code;
      const verifier = form.code_verifier;
      if (!code) throw invalidRequest('code is required');
      if (!verifier) throw invalidRequest('code_verifier is required (PKCE)');
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
      if (!PKCE_VERIFIER.test(verifier) || (await s256(verifier)) !== rec.codeChallenge) {
        throw invalidGrant('PKCE verification failed');
      }
      if (
        requestedResource !== undefined &&
        canonicalResource(requestedResource) !== canonicalResource(rec.resource)
      ) {
        throw invalidTarget('resource differs from the authorization request');
      }
      const access = await flows.accessTokens.issue({
        sub: rec.sub,
        clientId: client.client_id,
        resource: rec.resource,
        scopes: rec.scopes,
        familyId: rec.familyId,
        ...(rec.login !== undefined ? { login: rec.login } : {}),
        ...(rec.name !== undefined ? { name: rec.name } : {}),
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
        });
      } else await flows.refresh.recordFamily(family);
      await flows.grants.addFamily(rec.grantId, rec.familyId);
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
        token_type: 'Bearer',
        expires_in: access.expiresIn,
        scope: rec.scopes.join(' '),
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
      });
    }

    // refresh_token
    const presented = form.refresh_token;
    if (!presented) throw invalidRequest('refresh_token is required');
    const narrowed = parseScope(form.scope);
    // Check what can be checked before the token is consumed, so a bad request does not burn it.
    const live = await flows.refresh.peek(presented);
    if (live && live.clientId === client.client_id) {
      if (narrowed && narrowed.some((s) => !live.scopes.includes(s)))
        throw invalidScope('scope exceeds the original grant');
      if (
        requestedResource !== undefined &&
        canonicalResource(requestedResource) !== canonicalResource(live.resource)
      ) {
        throw invalidTarget('resource differs from the original grant');
      }
    }
    const rotation = await flows.refresh.rotate(presented, client.client_id);
    const rec = rotation.record;
    if (narrowed && narrowed.some((s) => !rec.scopes.includes(s)))
      throw invalidScope('scope exceeds the original grant');
    if (
      requestedResource !== undefined &&
      canonicalResource(requestedResource) !== canonicalResource(rec.resource)
    ) {
      throw invalidTarget('resource differs from the original grant');
    }
    const scopes = narrowed ?? rec.scopes;
    const access = await flows.accessTokens.issue({
      sub: rec.sub,
      clientId: client.client_id,
      resource: rec.resource,
      scopes,
      familyId: rec.familyId,
      ...(rec.login !== undefined ? { login: rec.login } : {}),
      ...(rec.name !== undefined ? { name: rec.name } : {}),
    });
    await ctx.clients.touch(client.client_id);
    ctx.audit.emit('token.refreshed', {
      clientId: client.client_id,
      sub: rec.sub,
      familyId: rec.familyId,
      jti: access.jti,
      scopes,
      repeated: rotation.repeated,
    });
    return noStoreJson({
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope: scopes.join(' '),
      refresh_token: rotation.refreshToken,
    });
  };
  return [{ method: 'POST', path: `${ctx.issuerPath}/token`, handler, cors: true, rateLimit: 'token' }];
}
