import { OAuthError, type UpstreamIdentity } from '@mcp-gateway/oauth-dynamicclient';
import { CliError } from '../cli/errors.js';
import { federatedRoute, federatedScopes } from '../federation/resource.js';
import { CLI_CLIENT_ID } from './authorization.js';
import type { Gateway } from './create.js';
import { accountResource, adminResource } from './resources.js';

/** Tokens as the token endpoint returns them. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** The resource a `--service` names: a service, `admin`, `account`, a federated endpoint (path or URL), or one of `protectedResources`. */
function targetOf(gateway: Gateway, service: string): { resource: string; scopes: string[] } {
  const { config } = gateway;
  if (service === 'admin') return adminResource(config.issuer);
  if (service === 'account') return accountResource(config.issuer);
  const e = gateway.services.get(service);
  if (e) return { resource: e.route.resource, scopes: e.route.scopes };
  const fed = config.federated.find(
    (f) => f.path === service || federatedRoute(config.issuer, f).resource === service,
  );
  if (fed) {
    return {
      resource: federatedRoute(config.issuer, fed).resource,
      scopes: federatedScopes(gateway.services, fed),
    };
  }
  const external = config.protectedResources.find((r) => r.resource === service);
  if (external) return { resource: external.resource, scopes: external.scopes };
  throw new CliError(`no service "${service}" (nor protected resource); see mcp-gateway config check`);
}

/** The identity a `--user` names: a local user (`alice` or `local:alice`), or a subject such as `github:583231`. */
async function identityOf(gateway: Gateway, user: string): Promise<UpstreamIdentity> {
  const { config } = gateway;
  if (config.idp.type === 'local') {
    const name = user.startsWith('local:') ? user.slice('local:'.length) : user;
    const u =
      (await gateway.users.get(name)) ??
      config.idp.users.find((x) => x.username.toLowerCase() === name.toLowerCase());
    if (!u) throw new CliError(`no local user "${name}"; add one with: mcp-gateway users add ${name}`);
    const groups = 'groups' in u ? u.groups : undefined;
    return {
      sub: `local:${u.username}`,
      login: u.username,
      ...(u.name ? { name: u.name } : {}),
      ...(groups?.length ? { groups } : {}),
    };
  }
  const m = /^([a-z0-9-]+):(.+)$/.exec(user);
  if (!m) {
    throw new CliError(
      `with the ${config.idp.type} identity provider, --user is a subject such as github:583231`,
    );
  }
  return { sub: user, login: m[2]! };
}

/**
 * `mcp-gateway token --user U --service S` (a service name, `admin`,
 * `account`, or the URL of one of `protectedResources`): an operator grant of
 * the authorization server (`tokens.issue`) to the built-in CLI client. The
 * token is an ordinary access token for the resource; the consent is recorded
 * in the user's grant, where the user sees it on the connected-apps page and
 * can revoke it.
 */
export async function issueToken(
  gateway: Gateway,
  user: string,
  service: string,
  scope?: string,
): Promise<TokenResponse> {
  const target = targetOf(gateway, service);
  const identity = await identityOf(gateway, user);
  try {
    return await gateway.authorization.server.tokens.issue({
      clientId: CLI_CLIENT_ID,
      identity,
      resource: target.resource,
      scope: scope ?? target.scopes.join(' '),
    });
  } catch (err) {
    if (err instanceof OAuthError)
      throw new CliError(`authorization failed: ${err.error}: ${err.description ?? ''}`);
    throw err;
  }
}
