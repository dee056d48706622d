import type { Route, ServerContext } from '../context.js';
import { readForm } from '../http/body.js';
import { invalidRequest } from '../http/errors.js';
import { empty } from '../http/responses.js';
import type { AccessTokenClaims } from '../tokens/access-token.js';
import { notATokenUnlessUnavailable } from '../tokens/verifier.js';
import { flowServices } from './flow-services.js';
import { authenticateClient } from '../clients/authentication.js';

/**
 * `POST /revoke` (RFC 7009). The client authenticates as at `/token`. A
 * refresh token revokes its whole family (its access tokens too); an access
 * token is revoked by `jti`. Unknown, expired, foreign and malformed tokens
 * answer 200 as well (§2.2), so the endpoint reveals nothing.
 */
export function revokeRoutes(ctx: ServerContext): Route[] {
  const handler = async (request: Request): Promise<Response> => {
    const flows = flowServices(ctx);
    const form = await readForm(request, ctx.options.maxBodyBytes);
    const client = await authenticateClient(ctx, request, form);
    const token = form.token;
    if (!token) throw invalidRequest('token is required');
    const tryRefresh = async () => {
      const record = await flows.refresh.revoke(token, client.client_id);
      if (record)
        ctx.audit.emit('token.revoked', {
          clientId: client.client_id,
          kind: 'refresh_token',
          familyId: record.familyId,
        });
      return !!record;
    };
    const tryAccess = async () => {
      const claims = await flows.verifier.inspect(token).catch(notATokenUnlessUnavailable);
      if (!claims || claims.client_id !== client.client_id) return false;
      await revokeAccessToken(ctx, claims, { family: false });
      return true;
    };
    // The hint only decides the search order (§2.1).
    const order = form.token_type_hint === 'access_token' ? [tryAccess, tryRefresh] : [tryRefresh, tryAccess];
    for (const attempt of order) if (await attempt()) break;
    return empty(200);
  };
  return [{ method: 'POST', path: `${ctx.issuerPath}/revoke`, handler, cors: true, rateLimit: 'token' }];
}

/**
 * Revokes an access token by `jti` (and, with `family`, every token of its
 * refresh family) and emits `token.revoked`.
 */
export async function revokeAccessToken(
  ctx: ServerContext,
  claims: AccessTokenClaims,
  opts: { family: boolean },
): Promise<void> {
  const flows = flowServices(ctx);
  await flows.revocations.revokeToken(claims.jti, claims.exp);
  if (opts.family && claims.fid) await flows.refresh.revokeFamily(claims.fid);
  ctx.audit.emit('token.revoked', {
    clientId: claims.client_id,
    kind: 'access_token',
    jti: claims.jti,
    familyId: claims.fid,
  });
}
