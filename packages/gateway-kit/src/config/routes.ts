import type { GatewayConfig, ServiceConfig } from './schema.js';

/** Where a service lives on the public side, and what a token for it must carry. */
export interface ServiceRoute {
  name: string;
  /** Host routing: the public host (lowercase, with port when not default); `undefined` for path routing. */
  host: string | undefined;
  /** Path prefix of the service on its origin (e.g. `/fetch`, or `''` for host routing). */
  prefix: string;
  /** Canonical URI of the MCP endpoint: the token audience (RFC 8707) and `resource` (RFC 9728). */
  resource: string;
  /** RFC 9728 metadata URL (path-inserted well-known). */
  metadataUrl: string;
  /** Scopes a token needs. */
  scopes: string[];
  title: string;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * Public addresses of every enabled service. Path routing mounts a service at
 * `<issuer><path>/mcp` (path default `/<name>`); host routing at
 * `<issuer scheme>://<host>/mcp`.
 */
export function serviceRoutes(config: Pick<GatewayConfig, 'issuer' | 'services'>): ServiceRoute[] {
  return Object.entries(config.services)
    .filter(([, s]) => s.enabled)
    .map(([name, s]) => serviceRoute(config.issuer, name, s));
}

/** The {@link ServiceRoute} of one service. */
export function serviceRoute(issuer: string, name: string, s: ServiceConfig): ServiceRoute {
  const base = new URL(issuer);
  let origin: string;
  let prefix: string;
  let host: string | undefined;
  if (s.host) {
    const u = new URL(`${base.protocol}//${s.host}`);
    origin = u.origin;
    host = u.host;
    prefix = '';
  } else {
    origin = base.origin;
    prefix = trimSlash(base.pathname) + (s.path ?? `/${name}`);
  }
  const resourcePath = `${prefix}/mcp`;
  return {
    name,
    host,
    prefix,
    resource: `${origin}${resourcePath}`,
    metadataUrl: `${origin}/.well-known/oauth-protected-resource${resourcePath}`,
    scopes: s.scopes ?? [`mcp:${name}`],
    title: s.title ?? name,
  };
}
