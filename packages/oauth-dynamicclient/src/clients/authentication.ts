import { decodeJwt, type JWTPayload } from 'jose';
import { epochSeconds } from '../clock.js';
import type { ServerContext } from '../context.js';
import { assertionAlgorithms } from '../grants/options.js';
import { assertionServices } from '../grants/services.js';
import { basicCredentials } from '../http/body.js';
import { invalidClient, invalidRequest, OAuthError } from '../http/errors.js';
import { verifySecret } from '../secrets.js';
import type { Client } from './records.js';

/** RFC 7523 §2.2 `client_assertion_type`. */
export const JWT_CLIENT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Options of {@link authenticateClient}. */
export interface ClientAuthenticationOptions {
  /** Refuse `none` (public clients): introspection needs a client that can prove who it is. */
  requireSecret?: boolean;
}

/**
 * Authenticates the client of a token, revocation or introspection request by
 * its registered method: `client_secret_basic`, `client_secret_post`,
 * `private_key_jwt` (RFC 7523 §2.2) or `none` with just `client_id`. Unknown
 * clients, wrong credentials and the wrong method all answer
 * `401 invalid_client`; more than one method in a request is
 * `invalid_request`.
 */
export async function authenticateClient(
  ctx: ServerContext,
  request: Request,
  form: Record<string, string>,
  opts: ClientAuthenticationOptions = {},
): Promise<Client> {
  const basic = basicCredentials(request);
  if (basic === null) throw invalidClient('malformed Basic credentials');
  const assertion = form.client_assertion !== undefined || form.client_assertion_type !== undefined;
  if ([basic !== undefined, form.client_secret !== undefined, assertion].filter(Boolean).length > 1)
    throw invalidRequest('use one client authentication method');
  if (assertion) return authenticateByAssertion(ctx, request, form);
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

/**
 * `private_key_jwt`: the assertion is signed by a key of the client's
 * registered `jwks` / `jwks_uri`, `iss` = `sub` = client_id, `aud` names the
 * issuer or the endpoint it is sent to, `exp` within
 * `assertions.maxLifetimeSeconds`, and its `jti` is used once.
 */
async function authenticateByAssertion(
  ctx: ServerContext,
  request: Request,
  form: Record<string, string>,
): Promise<Client> {
  if (form.client_assertion_type !== JWT_CLIENT_ASSERTION)
    throw invalidClient('unsupported client_assertion_type');
  const jwt = form.client_assertion;
  if (!jwt) throw invalidClient('client_assertion is required');
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(jwt);
  } catch {
    throw invalidClient('client_assertion is not a JWT');
  }
  const clientId = unverified.sub;
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 200)
    throw invalidClient('client_assertion has no usable sub');
  if (form.client_id !== undefined && form.client_id !== clientId) throw invalidRequest('client_id mismatch');
  const client = await ctx.clients.get(clientId);
  const meta = client?.metadata;
  if (!client || meta?.token_endpoint_auth_method !== 'private_key_jwt')
    throw invalidClient('client authentication failed');
  const source = meta.jwks ? { jwks: meta.jwks } : { jwksUri: meta.jwks_uri! };
  const skew = ctx.options.tokens.clockSkewSeconds;
  const services = assertionServices(ctx);
  const endpoint = ctx.endpoint(new URL(request.url).pathname.slice(ctx.issuerPath.length));
  let payload: JWTPayload;
  try {
    payload = await services.keys.verify(jwt, source, {
      issuer: clientId,
      subject: clientId,
      audience: [ctx.issuer, `${ctx.issuer}/`, ctx.endpoint('/token'), endpoint],
      algorithms: assertionAlgorithms,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: skew,
      currentDate: new Date(ctx.clock.now()),
    });
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    ctx.log.info('client assertion refused', {
      clientId,
      reason: err instanceof Error ? err.message.slice(0, 200) : 'unknown',
    });
    throw invalidClient('client assertion invalid');
  }
  checkLifetime(ctx, payload, invalidClient);
  if (!(await services.replay.firstUse(`client:${clientId}`, payload.jti!, payload.exp!)))
    throw invalidClient('client assertion already used (jti)');
  return client;
}

/**
 * `exp` no further ahead than `assertions.maxLifetimeSeconds` (plus skew), and
 * `iat`, when present, neither in the future nor older than that.
 */
export function checkLifetime(
  ctx: ServerContext,
  payload: JWTPayload,
  fail: (description: string) => OAuthError,
): void {
  const now = epochSeconds(ctx.clock.now());
  const max = ctx.options.assertions.maxLifetimeSeconds;
  const skew = ctx.options.tokens.clockSkewSeconds;
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256)
    throw fail('jti must be a string of 1 to 256 characters');
  if (payload.exp! - now > max + skew) throw fail(`exp is more than ${max} seconds ahead`);
  if (payload.iat !== undefined && (payload.iat > now + skew || now - payload.iat > max + skew))
    throw fail('iat is in the future or too old');
}
