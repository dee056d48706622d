import { decodeJwt, type JWTPayload } from 'jose';
import { authenticateClient } from '../clients/authentication.js';
import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import { allowedScopes, resolveResource } from '../endpoints/authorize.js';
import { basicCredentials } from '../http/body.js';
import { invalidClient, invalidGrant, invalidRequest, invalidScope, invalidTarget } from '../http/errors.js';
import { canonicalResource } from '../resource/canonical.js';
import { tokenRequestBinding } from '../dpop/token-binding.js';
import { grantedScopes, issueWithoutRefresh } from './issue-without-refresh.js';
import { verifyIssuedAssertion } from './issued-assertion.js';
import { assertionServices } from './services.js';
import { matchSubject, type WorkloadIssuer, type WorkloadSubject } from './workload-options.js';

/** The subject of a token issued to a workload: `workload:<issuer>#<sub>`. */
export const workloadSubject = (issuer: string, sub: string): string => `workload:${issuer}#${sub}`;

/** Whether a token request carries client credentials (Basic, `client_secret`, `client_assertion`). */
function hasClientCredentials(request: Request, form: Record<string, string>): boolean {
  return (
    basicCredentials(request) !== undefined ||
    form.client_secret !== undefined ||
    form.client_assertion !== undefined ||
    form.client_assertion_type !== undefined
  );
}

/**
 * Whether a jwt-bearer request is for the workload grant: its assertion's
 * `iss` is a configured workload issuer, or the request identifies no client
 * at all (an ID-JAG needs one; the workload path then refuses an unknown
 * issuer with `invalid_grant`, RFC 7523 §3.1).
 */
export function isWorkloadRequest(
  ctx: ServerContext,
  request: Request,
  form: Record<string, string>,
): boolean {
  if (ctx.options.workloadIssuers.length === 0) return false;
  if (!hasClientCredentials(request, form) && form.client_id === undefined) return true;
  try {
    const iss = form.assertion ? decodeJwt(form.assertion).iss : undefined;
    return ctx.options.workloadIssuers.some((w) => w.issuer === iss);
  } catch {
    return false;
  }
}

/** RFC 7523 §3: signature by the issuer's keys, `iss`/`sub`/`aud`/`exp`/`jti` present, `nbf`/`iat` honoured, bounded lifetime. */
async function verifyWorkloadJwt(
  ctx: ServerContext,
  jwt: string,
): Promise<{ issuer: WorkloadIssuer; payload: JWTPayload }> {
  const verified = await verifyIssuedAssertion(ctx, jwt, ctx.options.workloadIssuers, {
    audience: (w) => w.audience ?? [ctx.issuer, `${ctx.issuer}/`, ctx.endpoint('/token')],
    requiredClaims: ['exp', 'jti', 'sub'],
    refused: 'workload assertion refused',
  });
  if (verified.payload.sub!.length > 255) throw invalidGrant('sub is too long');
  return verified;
}

/**
 * The client a workload gets its token as: the rule's `clientId`. Client
 * credentials in the request are optional (the assertion is the
 * credential, RFC 7523 §3.1); when given they must authenticate that very
 * client, and a bare `client_id` must name it.
 */
async function workloadClient(
  ctx: ServerContext,
  request: Request,
  form: Record<string, string>,
  rule: WorkloadSubject,
): Promise<Client> {
  if (hasClientCredentials(request, form)) {
    const authenticated = await authenticateClient(ctx, request, form);
    if (authenticated.client_id !== rule.clientId) throw invalidGrant('the assertion is for another client');
    return authenticated;
  }
  if (form.client_id !== undefined && form.client_id !== rule.clientId)
    throw invalidGrant('the assertion is for another client');
  const client = await ctx.clients.get(rule.clientId);
  if (!client) throw invalidClient('the client mapped to this workload does not exist');
  return client;
}

/** The configured resource and the scopes a workload token gets. */
function workloadTarget(
  ctx: ServerContext,
  client: Client,
  form: Record<string, string>,
  rule: WorkloadSubject,
) {
  const target = resolveResource(ctx, rule.resource ?? form.resource);
  if (!target) throw invalidTarget(form.resource === undefined ? 'resource is required' : 'unknown resource');
  if (form.resource !== undefined && canonicalResource(form.resource) !== canonicalResource(target.resource))
    throw invalidTarget('resource is not the one this workload may use');
  const ceiling = rule.scope?.split(' ');
  const allowed = allowedScopes(client, target.scopes).filter((s) => !ceiling || ceiling.includes(s));
  const scopes = grantedScopes(form.scope, allowed);
  if (!scopes) throw invalidScope('scope exceeds what this workload may get');
  return { resource: target.resource, scopes };
}

/**
 * The RFC 7523 jwt-bearer grant for workload identity federation (MCP
 * SEP-1933): `assertion` is a JWT of a configured workload issuer, checked
 * per RFC 7523 §3 ({@link verifyWorkloadJwt}); its `sub` is mapped by the
 * issuer's first matching subject rule to a client. A DPoP proof on the
 * request binds the token (`cnf.jkt`). The proof's `jti`, then the
 * assertion's, are recorded only when everything else passed, the
 * assertion's until its `exp`. The token's subject is
 * `workload:<issuer>#<sub>`; no refresh token.
 */
export async function workloadGrant(
  ctx: ServerContext,
  request: Request,
  form: Record<string, string>,
): Promise<Response> {
  if (!form.assertion) throw invalidRequest('assertion is required');
  const { issuer, payload } = await verifyWorkloadJwt(ctx, form.assertion);
  const rule = matchSubject(issuer, payload.sub!);
  if (!rule) throw invalidGrant('no client is mapped to this workload subject');
  const client = await workloadClient(ctx, request, form, rule);
  const binding = await tokenRequestBinding(ctx, request, client);
  const { resource, scopes } = workloadTarget(ctx, client, form, rule);
  // The DPoP proof before the assertion's jti: a replayed proof leaves the assertion unused.
  await binding.recordProof?.();
  if (
    !(await assertionServices(ctx).replay.firstUse(`workload:${issuer.issuer}`, payload.jti!, payload.exp!))
  )
    throw invalidGrant('assertion already used (jti)');
  return issueWithoutRefresh(ctx, client, {
    sub: workloadSubject(issuer.issuer, payload.sub!),
    resource,
    scopes,
    binding,
  });
}
