import type { Route, ServerContext } from '../context.js';
import { readForm } from '../http/body.js';
import { invalidRequest } from '../http/errors.js';
import { noStoreJson } from '../http/responses.js';
import { notATokenUnlessUnavailable } from '../tokens/verifier.js';
import { flowServices } from './flow-services.js';
import { authenticateClient } from '../clients/authentication.js';

/**
 * `POST /introspect` (RFC 7662). Only authenticated confidential clients may
 * ask (a public client has nothing to prove who it is). Access tokens of any
 * client are described; refresh tokens only to the client that holds them.
 * Anything invalid, expired or revoked is `{"active": false}`.
 */
export function introspectRoutes(ctx: ServerContext): Route[] {
  const handler = async (request: Request): Promise<Response> => {
    const flows = flowServices(ctx);
    const form = await readForm(request, ctx.options.maxBodyBytes);
    const client = await authenticateClient(ctx, request, form, { requireSecret: true });
    const token = form.token;
    if (!token) throw invalidRequest('token is required');
    const inactive = () => noStoreJson({ active: false });

    // token_type_hint only orders a search (RFC 7662 §2.1); JWT inspection is cheap, so try it first always.
    const claims = await flows.verifier.inspect(token).catch(notATokenUnlessUnavailable);
    if (claims) {
      if (await flows.revocations.isRevoked(claims.jti, claims.fid)) return inactive();
      return noStoreJson({
        active: true,
        // RFC 9449 §6.2: a bound token is a DPoP token and carries its confirmation.
        token_type: claims.cnf?.jkt ? 'DPoP' : 'Bearer',
        ...(claims.cnf?.jkt ? { cnf: { jkt: claims.cnf.jkt } } : {}),
        scope: claims.scope,
        client_id: claims.client_id,
        sub: claims.sub,
        ...(claims.login !== undefined ? { username: claims.login } : {}),
        ...(claims.groups !== undefined ? { groups: claims.groups } : {}),
        aud: claims.aud,
        iss: claims.iss,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
      });
    }
    const record = await flows.refresh.peek(token);
    if (
      !record ||
      record.clientId !== client.client_id ||
      (await flows.revocations.isFamilyRevoked(record.familyId))
    ) {
      return inactive();
    }
    return noStoreJson({
      active: true,
      token_type: 'refresh_token',
      scope: record.scopes.join(' '),
      client_id: record.clientId,
      sub: record.sub,
      ...(record.login !== undefined ? { username: record.login } : {}),
      aud: record.resource,
      iss: ctx.issuer,
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.issuedAt / 1000),
    });
  };
  return [{ method: 'POST', path: `${ctx.issuerPath}/introspect`, handler, rateLimit: 'token' }];
}
