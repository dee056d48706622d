/**
 * A federated endpoint as an OAuth protected resource (RFC 8707 audience,
 * RFC 9728 document): its own URL, and the union of its members' scopes.
 */
import type { ResourceDescriptor } from '../auth.js';
import type { ServiceRegistry } from '../services/registry.js';
import { mayUse } from '../config/subjects.js';
import { endpointPolicyName, type FederatedEndpointConfig } from './config.js';

/** Where a federated endpoint lives and what its tokens are for. */
export interface FederatedRoute {
  config: FederatedEndpointConfig;
  /** Issuer-local path of the MCP endpoint (e.g. `/mcp`). */
  localPath: string;
  /** Canonical URI: the audience (`resource`) of its tokens. */
  resource: string;
  /** RFC 9728 metadata URL (path-inserted well-known). */
  metadataUrl: string;
  title: string;
}

/** The {@link FederatedRoute} of an endpoint under `issuer`. */
export function federatedRoute(issuer: string, config: FederatedEndpointConfig): FederatedRoute {
  const base = new URL(issuer);
  const path = base.pathname.replace(/\/+$/, '') + config.path;
  return {
    config,
    localPath: config.path,
    resource: `${base.origin}${path}`,
    metadataUrl: `${base.origin}/.well-known/oauth-protected-resource${path}`,
    title: config.title ?? `${config.services.join(', ')} (federated)`,
  };
}

/**
 * The union of the members' scopes, in member order without repeats
 * (`scopes_supported` of the endpoint's document and its challenge).
 */
export function federatedScopes(registry: ServiceRegistry, config: FederatedEndpointConfig): string[] {
  const out = new Set<string>();
  for (const name of config.services) for (const s of registry.get(name)?.route.scopes ?? []) out.add(s);
  return [...out];
}

/**
 * The authorization server's view of every federated endpoint: tokens may
 * name it as `resource`. An endpoint with a member restricted to some users
 * is not advertised, like that member itself.
 */
export function federatedResources(
  registry: ServiceRegistry,
  issuer: string,
  endpoints: readonly FederatedEndpointConfig[],
): ResourceDescriptor[] {
  return endpoints.map((config) => {
    const route = federatedRoute(issuer, config);
    const restricted = config.services.some((n) => registry.get(n)?.config.users !== undefined);
    return {
      resource: route.resource,
      scopes: federatedScopes(registry, config),
      name: route.title,
      ...(restricted ? { advertise: false } : {}),
    };
  });
}

/** A federated endpoint as `/servers` lists it (beside the services). */
export interface FederatedListing {
  /** Its `policies.endpoints` key. */
  name: string;
  title: string;
  type: 'federated';
  url: string;
  resource_metadata: string;
  scopes: string[];
  /** The members the caller may use. */
  services: string[];
}

/**
 * The federated endpoints `sub` may use (anonymous: `undefined`), each with
 * the members it may use; an endpoint without one is left out, as a service
 * the caller may not use is.
 */
export function federatedListings(
  registry: ServiceRegistry,
  issuer: string,
  endpoints: readonly FederatedEndpointConfig[],
  sub: string | undefined,
): FederatedListing[] {
  return endpoints.flatMap((config) => {
    const services = config.services.filter((n) => {
      const e = registry.get(n);
      return !!e && mayUse(e.config.users, sub);
    });
    if (services.length === 0) return [];
    const route = federatedRoute(issuer, config);
    return [
      {
        name: endpointPolicyName(config),
        title: route.title,
        type: 'federated' as const,
        url: route.resource,
        resource_metadata: route.metadataUrl,
        scopes: federatedScopes(registry, config),
        services,
      },
    ];
  });
}
