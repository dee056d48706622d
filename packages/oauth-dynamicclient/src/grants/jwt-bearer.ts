import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import { allowedScopes, resolveResource } from '../endpoints/authorize.js';
import { invalidGrant, invalidRequest, invalidScope, invalidTarget } from '../http/errors.js';
import { canonicalResource } from '../resource/canonical.js';
import { grantedScopes, issueWithoutRefresh } from './issue-without-refresh.js';
import { verifyIssuedAssertion } from './issued-assertion.js';
import { assertionServices } from './services.js';
import type { TokenBinding } from '../dpop/token-binding.js';

/** The JOSE `typ` of an Identity Assertion JWT Authorization Grant. */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';

/** The subject of an enterprise IdP's user, as the OIDC provider names its users. */
export const idpSubject = (issuer: string, sub: string): string => `oidc:${issuer}#${sub}`;

/**
 * The RFC 7523 jwt-bearer grant for ID-JAGs (the MCP enterprise-managed
 * authorization, SEP-990): `assertion` is a JWT of `typ: oauth-id-jag+jwt`
 * signed by a trusted IdP (`iss` exactly one of `trustedIdps`), whose `aud`
 * is this issuer, whose `client_id` is the authenticated client and whose
 * `resource` is a configured resource; `exp`/`iat` within
 * `assertions.maxLifetimeSeconds`, `jti` used once. The token's subject is
 * the IdP's user, `oidc:<issuer>#<sub>`; its scopes at most the ID-JAG's
 * `scope` (when it has one) and the client's registered scope on the resource.
 */
export async function jwtBearerGrant(
  ctx: ServerContext,
  client: Client,
  form: Record<string, string>,
  binding: TokenBinding,
): Promise<Response> {
  const jwt = form.assertion;
  if (!jwt) throw invalidRequest('assertion is required');
  const { issuer: idp, payload } = await verifyIssuedAssertion(ctx, jwt, ctx.options.trustedIdps, {
    audience: [ctx.issuer, `${ctx.issuer}/`],
    typ: ID_JAG_TYP,
    requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
    refused: 'ID-JAG refused',
  });
  if (payload.client_id !== client.client_id) throw invalidGrant('assertion was issued to another client');
  const sub = payload.sub!;
  if (sub.length > 255) throw invalidGrant('sub is too long');
  const claimed = payload.resource;
  if (typeof claimed !== 'string') throw invalidGrant('assertion has no resource');
  const target = resolveResource(ctx, claimed);
  if (!target) throw invalidTarget('the assertion names an unknown resource');
  if (form.resource !== undefined && canonicalResource(form.resource) !== canonicalResource(target.resource))
    throw invalidTarget('resource differs from the assertion');
  const jagScopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : undefined;
  const allowed = allowedScopes(client, target.scopes).filter((s) => !jagScopes || jagScopes.includes(s));
  const scopes = grantedScopes(form.scope, allowed);
  if (!scopes) throw invalidScope('scope exceeds the assertion or the client registration');
  // The DPoP proof before the assertion's jti: a replayed proof leaves the assertion unused.
  await binding.recordProof?.();
  if (!(await assertionServices(ctx).replay.firstUse(`idp:${idp.issuer}`, payload.jti!, payload.exp!)))
    throw invalidGrant('assertion already used (jti)');
  return issueWithoutRefresh(ctx, client, {
    sub: idpSubject(idp.issuer, sub),
    resource: target.resource,
    scopes,
    binding,
  });
}
