import type {
  AuditRecord,
  AuthorizationServerOptions,
  Clock,
  IdentityProvider,
  IdentityProviderConfig,
  StaticClientConfig,
  Store,
} from '@mcp-gateway/oauth-dynamicclient';
import type { ResourceDescriptor } from '../auth.js';
import { dpopServerOptions } from '../config/dpop.js';
import type { GatewayConfig } from '../config/schema.js';
import { accountResource, adminResource } from './resources.js';
import { workloadOptions } from './workload-options.js';

/** Static client the gateway's own pages (connected apps) sign in with. */
export const ACCOUNT_CLIENT_ID = 'mcp-gateway-account';
/** Static client of `mcp-gateway token` (its redirect is never followed). */
export const CLI_CLIENT_ID = 'mcp-gateway-cli';
export const CLI_REDIRECT_URI = 'http://127.0.0.1/mcp-gateway-cli';
/** Rate-limit bucket of the gateway's own pages (`/account` and friends). */
export const PAGES_BUCKET = 'pages';
/** Requests per source and minute to the gateway's pages (as strict as the AS's `/authorize`). */
export const PAGES_RATE_LIMIT = { limit: 60, windowMs: 60_000 };

/** The parts of the authorization server's options that are objects, not config values. */
export interface AuthorizationParts {
  store?: Store;
  identityProvider?: IdentityProvider | IdentityProviderConfig;
  logger?: AuthorizationServerOptions['logger'];
  onAudit?: (record: AuditRecord) => void;
  /** Time source (default: the wall clock); tests only, see `CreateGatewayOptions.clock`. */
  clock?: Clock;
}

/**
 * Which gateway config field each authorization-server option comes from, so
 * the server's own validation can name the field a user wrote. Longest prefix wins.
 */
export const CONFIG_FIELD_OF_OPTION: Readonly<Record<string, string>> = {
  issuer: 'issuer',
  'tokens.accessTokenTtlSeconds': 'tokens.accessTokenTtl',
  'tokens.refreshTokenTtlSeconds': 'tokens.refreshTokenTtl',
  'tokens.codeTtlSeconds': 'tokens.codeTtl',
  trustProxyHops: 'trustProxy',
  'cors.origins': 'cors.origins',
  identityProvider: 'idp',
  resources: 'services',
  grants: 'authorization.grants',
  trustedIdps: 'authorization.trustedIdps',
  workloadIssuers: 'authorization.workloadIssuers',
  staticClients: 'authorization.clients',
  rememberConsentSeconds: 'authorization.rememberConsent',
  remoteJwks: 'authorization.keyFetch',
  'dpop.nonceRotationSeconds': 'authorization.dpop.nonceRotation',
  'dpop.proofMaxAgeSeconds': 'authorization.dpop.proofMaxAge',
  dpop: 'authorization.dpop',
};

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer' as const;

/** The authorization server's static client for a machine client of the config. */
export function machineStaticClient(
  c: GatewayConfig['authorization']['clients'][number],
): StaticClientConfig {
  return {
    client_id: c.id,
    ...(c.name !== undefined ? { client_name: c.name } : {}),
    grant_types: c.grants.map((g) => (g === 'jwt-bearer' ? JWT_BEARER : g)),
    ...(c.scopes ? { scope: c.scopes.join(' ') } : {}),
    ...(c.secretHash
      ? { client_secret_hash: c.secretHash, token_endpoint_auth_method: c.authMethod }
      : {
          token_endpoint_auth_method: 'private_key_jwt' as const,
          ...(c.jwks ? { jwks: c.jwks } : { jwks_uri: c.jwksUri! }),
        }),
  };
}

/**
 * The IdP part of the options for a GitHub or OIDC config (the local IdP is a
 * live object over the store, built by the gateway).
 */
export function remoteIdentityProviderConfig(
  idp: Exclude<GatewayConfig['idp'], { type: 'local' }>,
): IdentityProviderConfig {
  if (idp.type === 'github') {
    const { type: _t, apiBaseUrl, ...rest } = idp;
    return { type: 'github' as const, ...rest, ...(apiBaseUrl ? { apiUrl: apiBaseUrl } : {}) };
  }
  return { ...idp };
}

/**
 * The authorization server's resources: the services' (`resources`) and the
 * config's `protectedResources`, at start-up and for `server.resources.set`
 * when services change.
 */
export function authorizationResources(
  config: GatewayConfig,
  resources: ResourceDescriptor[],
): NonNullable<AuthorizationServerOptions['resources']> {
  const all = [
    ...resources,
    ...config.protectedResources.map((r) => ({
      resource: r.resource,
      scopes: r.scopes,
      name: r.title ?? r.resource,
    })),
  ];
  const hidden = (r: (typeof all)[number]) => 'advertise' in r && r.advertise === false;
  const own = new Set([adminResource(config.issuer).resource, accountResource(config.issuer).resource]);
  // A request naming no resource gets the first service everyone may use: never a restricted
  // one, and never the admin API or the account page (a client that names no resource must not
  // lead an admin into consenting to admin access). None such: the request must name one.
  const fallback = all.findIndex((r) => !hidden(r) && !own.has(r.resource));
  return all.map((r, i) => ({
    resource: r.resource,
    scopes: r.scopes,
    name: r.name,
    default: i === fallback,
    ...(hidden(r) ? { advertise: false } : {}),
  }));
}

/**
 * The authorization server's options for a gateway config: one builder for the
 * running server and for `config check`, so both validate the same thing.
 */
export function authorizationServerOptions(
  config: GatewayConfig,
  resources: ResourceDescriptor[],
  parts: AuthorizationParts,
): AuthorizationServerOptions {
  const workloads = workloadOptions(config);
  return {
    issuer: config.issuer,
    ...(parts.store ? { store: parts.store } : {}),
    ...(parts.clock ? { clock: parts.clock } : {}),
    resources: authorizationResources(config, resources),
    ...(parts.identityProvider ? { identityProvider: parts.identityProvider } : {}),
    tokens: {
      accessTokenTtlSeconds: config.tokens.accessTokenTtl,
      refreshTokenTtlSeconds: config.tokens.refreshTokenTtl,
      codeTtlSeconds: config.tokens.codeTtl,
    },
    trustProxyHops: config.trustProxy ? 1 : 0,
    rateLimits: { [PAGES_BUCKET]: PAGES_RATE_LIMIT },
    cors: { origins: config.cors.origins.includes('*') ? '*' : config.cors.origins },
    staticClients: [
      {
        client_id: ACCOUNT_CLIENT_ID,
        client_name: 'mcp-gateway account page',
        redirect_uris: [`${config.issuer.replace(/\/+$/, '')}/account/callback`],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        // First-party: the user is signing in to the gateway itself, there is nothing to consent to.
        skipConsent: true,
      },
      {
        client_id: CLI_CLIENT_ID,
        client_name: 'mcp-gateway token command',
        redirect_uris: [CLI_REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
      },
      ...config.authorization.clients.map(machineStaticClient),
      ...workloads.clients,
    ],
    registration: { enabled: config.authorization.dynamicRegistration },
    rememberConsentSeconds: config.authorization.rememberConsent,
    grants: {
      ...config.authorization.grants,
      jwtBearer: config.authorization.grants.jwtBearer || workloads.workloadIssuers.length > 0,
    },
    trustedIdps: config.authorization.trustedIdps.map((i) => ({
      issuer: i.issuer,
      ...(i.jwks ? { jwks: i.jwks } : { jwksUri: i.jwksUri! }),
    })),
    workloadIssuers: workloads.workloadIssuers,
    remoteJwks: config.authorization.keyFetch,
    // The gateway's routes check presentations through `as.verifyPresentedToken` (issue 19).
    dpop: dpopServerOptions(config.authorization.dpop),
    ...(parts.logger ? { logger: parts.logger } : {}),
    ...(parts.onAudit ? { onAudit: parts.onAudit } : {}),
  };
}
