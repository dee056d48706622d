/**
 * Admission to a federated endpoint, before any message is read: the CORS
 * origin, the access token (RFC 6750 `Bearer`, or RFC 9449 `DPoP` with a
 * proof for this method and public URL) whose audience is the endpoint, and at
 * least one member the user may use. A refused caller gets the RFC 9728
 * challenge naming the endpoint's metadata, or `403`.
 */
import { AuthError } from '../../auth.js';
import { jsonError } from '../../errors.js';
import type { FederatedEndpoint } from '../../federation/endpoint.js';
import { federatedScopes } from '../../federation/resource.js';
import { addressedUrl, type PublicRequest } from '../../http/public-url.js';
import type { Identity } from '../../identity.js';
import type { RouteContext } from './context.js';

/** An admitted caller: who, and the CORS headers of every answer to them. */
export interface FederatedCaller {
  identity: Identity;
  corsHeaders: Record<string, string>;
}

/**
 * The caller of `request` to `endpoint` when admitted, else the answer that
 * refuses them. Refusals are counted on `authFailures`, labelled by the
 * endpoint's path (bounded, and never a service name: those have no `/`).
 */
export async function admitFederated(
  ctx: RouteContext,
  endpoint: FederatedEndpoint,
  request: Request,
  pub: PublicRequest,
): Promise<{ refusal: Response } | FederatedCaller> {
  const { cors, metrics } = ctx;
  const header = (name: string) => request.headers.get(name);
  const origin = header('origin');
  const corsHeaders = cors.headers(origin, pub.origin);
  if (origin && !cors.allows(origin, pub.origin)) {
    return { refusal: jsonError(403, 'forbidden_origin', `origin ${origin} is not allowed`) };
  }
  const { route } = endpoint;
  let identity: Identity;
  try {
    const http = { method: request.method, url: addressedUrl(pub), dpop: header('dpop') };
    // Audience only: each member is then included when the token holds its scopes (and its users list admits the user).
    identity = await ctx.authenticate(header('authorization'), route.resource, [], http);
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    metrics.authFailures.inc({ service: route.localPath, reason: err.error ?? 'missing' });
    const scopes = federatedScopes(ctx.registry, route.config);
    return { refusal: ctx.authFailure(err, route.metadataUrl, scopes, corsHeaders) };
  }
  if (!endpoint.mayUseAny(identity)) {
    metrics.authFailures.inc({ service: route.localPath, reason: 'user_not_allowed' });
    const message = `this account may use none of the services of ${route.localPath}`;
    return { refusal: jsonError(403, 'access_denied', message, corsHeaders) };
  }
  return { identity, corsHeaders };
}
