import type { AuthorizationServerOptions, StaticClientConfig } from '@mcp-gateway/oauth-dynamicclient';
import type { GatewayConfig } from '../config/schema.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer' as const;

type Options = Required<Pick<AuthorizationServerOptions, 'workloadIssuers'>>;

/**
 * The authorization server's `workloadIssuers` for the config's
 * `authorization.workloadIssuers`, and the public clients that workload
 * rules name but `authorization.clients` does not declare (a workload's JWT
 * is its credential, so such a client needs no secret).
 */
export function workloadOptions(config: GatewayConfig): Options & { clients: StaticClientConfig[] } {
  const declared = new Set(config.authorization.clients.map((c) => c.id));
  const implicit = new Set<string>();
  const workloadIssuers = config.authorization.workloadIssuers.map((w) => ({
    issuer: w.issuer,
    ...(w.jwks ? { jwks: w.jwks } : { jwksUri: w.jwksUri! }),
    ...(w.audience ? { audience: w.audience } : {}),
    ...(w.algorithms ? { algorithms: w.algorithms } : {}),
    subjects: w.subjects.map((r) => {
      if (!declared.has(r.client)) implicit.add(r.client);
      return {
        ...(r.subject !== undefined ? { subject: r.subject } : { subjectGlob: r.subjectGlob! }),
        clientId: r.client,
        ...(r.scopes ? { scope: r.scopes.join(' ') } : {}),
        ...(r.resource ? { resource: r.resource } : {}),
      };
    }),
  }));
  const clients = [...implicit].map((id): StaticClientConfig => ({
    client_id: id,
    client_name: `workload ${id}`,
    token_endpoint_auth_method: 'none',
    grant_types: [JWT_BEARER],
  }));
  return { workloadIssuers, clients };
}
