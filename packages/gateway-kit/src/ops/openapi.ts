import { adminResource, ADMIN_SCOPE } from '../gateway/resources.js';
import { authorizationPaths } from './openapi/authorization-paths.js';
import { applyDpop, type DpopMode } from './openapi/dpop-security.js';
import { gatewayPaths } from './openapi/gateway-paths.js';
import { componentSchemas } from './openapi/schemas.js';
import { servicePaths, type McpListing } from './openapi/service-paths.js';

/** Which optional routes this gateway serves. */
export interface OpenApiOptions {
  /** `/metrics` is on the main listener (default true). */
  metrics?: boolean;
  /** The local identity provider's `/login` form is served (default false). */
  localLogin?: boolean;
  /** Dynamic client registration (`/register`) is served (default true). */
  registration?: boolean;
  /** DPoP-bound tokens (RFC 9449): taken beside Bearer, required, or refused (default `off`). */
  dpop?: DpopMode;
}

/**
 * OpenAPI 3.1 description of the gateway's own HTTP endpoints (served at
 * `/openapi.json`): the MCP endpoint of each of `services` (pass only those
 * the caller may use), the admin API (its PUT body generated from the
 * config's zod service schema), operations endpoints, the authorization
 * server with its RFCs, and the HTML pages. MCP endpoints and the admin API
 * are secured by an `oauth2` authorization-code scheme at the issuer, and with DPoP on
 * (`options.dpop`) by the same token presented as `Authorization: DPoP` (RFC 9449).
 */
export function openApiDocument(
  issuer: string,
  services: McpListing[],
  version: string,
  options: OpenApiOptions = {},
) {
  const base = new URL(issuer);
  const p = base.pathname.replace(/\/+$/, '');
  const scopes = new Map<string, string>([[ADMIN_SCOPE, 'the admin API']]);
  for (const s of services) for (const sc of s.route.scopes) scopes.set(sc, `service "${s.name}"`);
  const doc = {
    openapi: '3.1.0',
    info: { title: 'mcp-gateway', version, description: 'OAuth 2.1 gateway in front of MCP servers.' },
    servers: [{ url: base.origin }],
    components: {
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          description:
            options.registration === false
              ? 'OAuth 2.1 with PKCE (S256) and RFC 8707 resource indicators; clients identify with a Client ID Metadata Document URL'
              : 'OAuth 2.1 with PKCE (S256) and RFC 8707 resource indicators; clients register at /register',
          flows: {
            authorizationCode: {
              authorizationUrl: `${base.origin}${p}/authorize`,
              tokenUrl: `${base.origin}${p}/token`,
              refreshUrl: `${base.origin}${p}/token`,
              scopes: Object.fromEntries(scopes),
            },
          },
        },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068)' },
        registrationAccessToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'RFC 7592 registration access token returned by /register',
        },
        clientSecretBasic: { type: 'http', scheme: 'basic', description: 'client_id and client_secret' },
      },
      schemas: componentSchemas(),
    },
    paths: {
      ...gatewayPaths(p, { metrics: options.metrics ?? true }),
      ...authorizationPaths(p, {
        localLogin: options.localLogin ?? false,
        registration: options.registration ?? true,
      }),
      ...servicePaths(issuer, services, adminResource(issuer).resource),
    },
  };
  return applyDpop(doc, options.dpop ?? 'off');
}
