import { jsonError } from '../../errors.js';
import type { Identity } from '../../identity.js';
import type { Logger } from '../../ops/logger.js';
import { PolicyInputError } from '../../policy/gateway-policy.js';
import { readAdminJson } from '../request-body.js';
import type { RouteContext } from './context.js';

/** Response header of `GET /admin/policies`: `config` (the config file's) or `runtime` (replaced through this API). */
export const POLICY_SOURCE_HEADER = 'x-mcp-gateway-policy-source';

/**
 * `/admin/policies`: the per-tool policies in force, in the config file's
 * `policies` shape. `GET` reads them; `PUT` replaces them with a document of
 * that shape (validated by the config's zod schema: 400 `invalid_policies`
 * with the issues otherwise), stored so that every instance and restart uses
 * it; `DELETE` drops the stored document, so the config file's apply again.
 */
export async function adminPolicies(
  ctx: RouteContext,
  request: Request,
  identity: Identity,
  log: Logger,
): Promise<Response> {
  const policy = ctx.policy;
  if (!policy) return jsonError(404, 'not_found', 'this gateway has no per-tool policy');
  await policy.refresh();
  const answer = () =>
    Response.json(policy.document, {
      headers: { 'cache-control': 'no-store', [POLICY_SOURCE_HEADER]: policy.source },
    });
  if (request.method === 'GET') return answer();
  if (request.method === 'DELETE') {
    await policy.reset();
    log.info('policies reset to the config file', { admin: identity.sub });
    return new Response(null, { status: 204 });
  }
  if (request.method !== 'PUT')
    return jsonError(405, 'method_not_allowed', `${request.method} is not allowed here`);
  const body = await readAdminJson(request);
  if ('refusal' in body) return body.refusal;
  const { input } = body;
  try {
    await policy.replace(input);
  } catch (err) {
    if (!(err instanceof PolicyInputError)) throw err;
    return Response.json(
      { error: 'invalid_policies', error_description: err.message, issues: err.issues },
      { status: 400, headers: { 'cache-control': 'no-store' } },
    );
  }
  log.info('policies replaced', { admin: identity.sub });
  return answer();
}
