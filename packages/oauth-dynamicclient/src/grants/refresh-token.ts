import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import { flowServices } from '../endpoints/flow-services.js';
import { invalidRequest, invalidScope, invalidTarget } from '../http/errors.js';
import { noStoreJson } from '../http/responses.js';
import { canonicalResource } from '../resource/canonical.js';
import { withoutOfflineAccess } from './offline-access.js';
import { assertSameKey, tokenType, type TokenBinding } from '../dpop/token-binding.js';

/** The narrowed scope of a refresh request; `offline_access` (SEP-2207) is not a resource scope and alone narrows nothing. */
function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const all = value.split(' ').filter(Boolean);
  const scopes = withoutOfflineAccess(all);
  if (scopes.length === 0 && all.length > 0) return undefined;
  return [...new Set(scopes)];
}

/**
 * The `refresh_token` grant (OAuth 2.1 §4.3) with rotation: a scope may only
 * narrow, the resource may not change, and a request that would fail is
 * refused before the token is consumed. A DPoP-bound refresh token (a
 * public client's, RFC 9449 §5) needs a proof of its key, checked before the
 * token is consumed too; the proof's `jti` is recorded only for a live
 * token that passed those checks (an invalid token writes no replay entry),
 * and before the rotation (a replayed proof leaves the token live).
 */
export async function refreshTokenGrant(
  ctx: ServerContext,
  client: Client,
  form: Record<string, string>,
  binding: TokenBinding,
): Promise<Response> {
  const flows = flowServices(ctx);
  const requestedResource = form.resource;
  const presented = form.refresh_token;
  if (!presented) throw invalidRequest('refresh_token is required');
  const narrowed = parseScope(form.scope);
  // Check what can be checked before the token is consumed, so a bad request does not burn it.
  const live = await flows.refresh.peek(presented);
  if (live && live.clientId === client.client_id) {
    assertSameKey(live.jkt, binding, 'refresh token');
    if (narrowed && narrowed.some((s) => !live.scopes.includes(s)))
      throw invalidScope('scope exceeds the original grant');
    if (
      requestedResource !== undefined &&
      canonicalResource(requestedResource) !== canonicalResource(live.resource)
    ) {
      throw invalidTarget('resource differs from the original grant');
    }
    // Recorded before the token is rotated: a replayed proof is refused with the token still live.
    await binding.recordProof?.();
  }
  const rotation = await flows.refresh.rotate(presented, client.client_id);
  const rec = rotation.record;
  assertSameKey(rec.jkt, binding, 'refresh token');
  if (narrowed && narrowed.some((s) => !rec.scopes.includes(s)))
    throw invalidScope('scope exceeds the original grant');
  if (
    requestedResource !== undefined &&
    canonicalResource(requestedResource) !== canonicalResource(rec.resource)
  ) {
    throw invalidTarget('resource differs from the original grant');
  }
  // A repeat inside the grace window had no live token to check above: recorded before issuing.
  await binding.recordProof?.();
  const scopes = narrowed ?? rec.scopes;
  const access = await flows.accessTokens.issue({
    sub: rec.sub,
    clientId: client.client_id,
    resource: rec.resource,
    scopes,
    familyId: rec.familyId,
    ...(rec.login !== undefined ? { login: rec.login } : {}),
    ...(rec.name !== undefined ? { name: rec.name } : {}),
    ...(rec.groups !== undefined ? { groups: rec.groups } : {}),
    ...(binding.jkt ? { jkt: binding.jkt } : {}),
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
    token_type: tokenType(binding),
    expires_in: access.expiresIn,
    scope: scopes.join(' '),
    refresh_token: rotation.refreshToken,
  });
}
