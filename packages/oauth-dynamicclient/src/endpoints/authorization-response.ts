import type { ServerContext } from '../context.js';
import type { UpstreamIdentity } from '../idp/types.js';
import type { PendingAuthorization } from './authorization-request.js';
import { flowServices } from './flow-services.js';
import { boundedGroups } from '../tokens/groups.js';

// The successful authorization response (RFC 6749 §4.1.2, `iss` per RFC 9207), reached from
// /callback (consent remembered or implied) and from /consent (the user approved).

/** Issues the authorization code and sends the browser back to the client (with `state` and `iss`). */
export async function issueCodeAndRedirect(
  ctx: ServerContext,
  pending: Pick<
    PendingAuthorization,
    | 'clientId'
    | 'redirectUri'
    | 'state'
    | 'codeChallenge'
    | 'resource'
    | 'scopes'
    | 'redirectUriExplicit'
    | 'dpopJkt'
  >,
  identity: UpstreamIdentity,
  grantId: string,
): Promise<Response> {
  const flows = flowServices(ctx);
  const code = await flows.codes.issue({
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    redirectUriExplicit: pending.redirectUriExplicit,
    codeChallenge: pending.codeChallenge,
    ...(pending.dpopJkt !== undefined ? { dpopJkt: pending.dpopJkt } : {}),
    resource: pending.resource,
    scopes: pending.scopes,
    sub: identity.sub,
    ...(identity.login ? { login: identity.login } : {}),
    ...(identity.name ? { name: identity.name } : {}),
    ...(identity.groups?.length ? { groups: boundedGroups(identity.groups) } : {}),
    grantId,
    familyId: ctx.ids.uuid(),
  });
  await ctx.clients.touch(pending.clientId);
  const url = new URL(pending.redirectUri);
  url.searchParams.set('code', code);
  if (pending.state !== undefined) url.searchParams.set('state', pending.state);
  url.searchParams.set('iss', ctx.issuer);
  return new Response(null, { status: 302, headers: { location: url.href, 'cache-control': 'no-store' } });
}
