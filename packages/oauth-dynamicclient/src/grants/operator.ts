import type { ServerContext } from '../context.js';
import { allowedScopes, resolveResource } from '../endpoints/authorize.js';
import { recordConsent } from '../endpoints/consent.js';
import { invalidClient, invalidScope, invalidTarget } from '../http/errors.js';
import type { UpstreamIdentity } from '../idp/types.js';
import { issueDirect, type DirectTokenBody } from './issue-without-refresh.js';
import { withoutOfflineAccess } from './offline-access.js';

/** What an operator grants: a user's access token for one of the server's resources, without a browser. */
export interface OperatorGrantInput {
  /** A registered client the token is issued to (e.g. a built-in CLI client). */
  clientId: string;
  /** The user, as the identity provider would have named them (`sub` decides, `login` is for display). */
  identity: Pick<UpstreamIdentity, 'sub' | 'login' | 'name' | 'groups'>;
  /** RFC 8707 resource; the default resource when omitted. */
  resource?: string;
  /** Space-separated scopes; every scope the client may have on the resource when omitted. */
  scope?: string;
}

/** The token response of an operator grant (RFC 6749 §5.1 fields; no refresh token). */
export type OperatorTokenResponse = DirectTokenBody;

/**
 * Issues an access token for a user as an operator of the server (e.g.
 * `mcp-gateway token --user alice --service notes`): the same checks as the
 * authorization endpoint (a known client, a configured resource, scopes the
 * client may have), the consent recorded in the user's grant (so the user
 * sees and can revoke it on the connected-apps page), and an ordinary access
 * token under a new token family, audited as `consent.given` and
 * `token.issued`. No refresh token: an operator grant is one-off.
 *
 * @throws OAuthError `invalid_client`, `invalid_target` or `invalid_scope`.
 */
export async function issueOperatorGrant(
  ctx: ServerContext,
  input: OperatorGrantInput,
): Promise<OperatorTokenResponse> {
  const client = await ctx.clients.get(input.clientId);
  if (!client) throw invalidClient(`unknown client ${input.clientId}`);
  const target = resolveResource(ctx, input.resource);
  if (!target) throw invalidTarget(input.resource ? 'unknown resource' : 'no resource given and no default');
  const allowed = allowedScopes(client, target.scopes);
  const requested = withoutOfflineAccess((input.scope ?? '').split(' ').filter(Boolean));
  const scopes = requested.length ? [...new Set(requested)] : allowed;
  const bad = scopes.filter((s) => !allowed.includes(s));
  if (bad.length) throw invalidScope(`scope not allowed: ${bad.join(' ').slice(0, 200)}`);

  const grant = await recordConsent(
    ctx,
    { clientId: client.client_id, scopes, resource: target.resource },
    input.identity,
  );
  const { sub, login, name, groups } = input.identity;
  return issueDirect(
    ctx,
    client,
    {
      sub,
      resource: target.resource,
      scopes,
      login,
      ...(name !== undefined ? { name } : {}),
      ...(groups?.length ? { groups } : {}),
      source: 'operator',
      binding: {},
    },
    grant,
  );
}
