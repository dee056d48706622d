import type { ServiceEntry } from '../services/registry.js';

const json = { 'application/json': { schema: { type: 'object' } } };
const err = (description: string) => ({ description, content: json });

/**
 * OpenAPI 3.1 description of the gateway's own HTTP endpoints (served at
 * `/openapi.json`). The authorization-server endpoints are listed with their
 * RFCs; MCP endpoints are listed per service.
 */
export function openApiDocument(issuer: string, services: ServiceEntry[], version: string) {
  const paths: Record<string, unknown> = {
    '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'alive', content: json } } } },
    '/readyz': {
      get: {
        summary: 'Readiness: store reachable and every service ready',
        responses: {
          200: { description: 'ready', content: json },
          503: err('not ready; `checks` says what'),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format)',
        responses: {
          200: { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    '/servers': {
      get: {
        summary: 'Services the caller may use (a bearer token for any service narrows the list to that user)',
        security: [{}, { bearer: [] }],
        responses: {
          200: { description: '`{servers:[{name,title,type,url,resource_metadata,scopes}]}`', content: json },
        },
      },
    },
    '/admin/services': {
      get: {
        summary: 'List services (admin)',
        security: [{ bearer: ['mcp:admin'] }],
        responses: {
          200: { description: 'services', content: json },
          401: err('no or bad token'),
          403: err('not an admin'),
        },
      },
    },
    '/admin/services/{name}': {
      parameters: [
        {
          name: 'name',
          in: 'path',
          required: true,
          schema: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
        },
      ],
      get: {
        summary: 'One service (admin)',
        security: [{ bearer: ['mcp:admin'] }],
        responses: { 200: { description: 'the service', content: json }, 404: err('unknown') },
      },
      put: {
        summary: 'Add or replace a runtime service (admin); the body is a service entry of the config schema',
        security: [{ bearer: ['mcp:admin'] }],
        requestBody: { required: true, content: json },
        responses: {
          201: { description: 'stored', content: json },
          400: err('invalid service, names the field'),
          409: err('defined in the config file'),
        },
      },
      delete: {
        summary: 'Remove a runtime service (admin)',
        security: [{ bearer: ['mcp:admin'] }],
        responses: {
          204: { description: 'removed' },
          404: err('unknown'),
          409: err('defined in the config file'),
        },
      },
    },
    '/.well-known/oauth-authorization-server': {
      get: {
        summary: 'RFC 8414 authorization-server metadata',
        responses: { 200: { description: 'metadata', content: json } },
      },
    },
    '/register': {
      post: {
        summary: 'RFC 7591 dynamic client registration',
        requestBody: { content: json },
        responses: { 201: { description: 'client', content: json }, 400: err('invalid metadata') },
      },
    },
    '/authorize': {
      get: {
        summary: 'OAuth 2.1 authorization endpoint (PKCE S256, RFC 8707 resource)',
        responses: { 302: { description: 'redirect to login, consent or the client' } },
      },
    },
    '/token': {
      post: {
        summary: 'Token endpoint (authorization_code, refresh_token)',
        responses: { 200: { description: 'tokens', content: json }, 400: err('OAuth error') },
      },
    },
    '/revoke': { post: { summary: 'RFC 7009 revocation', responses: { 200: { description: 'revoked' } } } },
    '/introspect': {
      post: {
        summary: 'RFC 7662 introspection',
        responses: { 200: { description: 'token state', content: json } },
      },
    },
    '/verify': {
      get: {
        summary: 'ForwardAuth for Traefik, nginx auth_request and Caddy forward_auth',
        responses: {
          200: { description: 'valid; X-User-Id, X-User-Name, X-Client-Id, X-Scopes headers' },
          401: err('no or bad token'),
          403: err('insufficient scope'),
        },
      },
    },
  };
  for (const s of services) {
    const mcpPath = new URL(s.route.resource).pathname;
    const key = s.route.host ? `${s.route.resource}` : mcpPath;
    paths[key] = {
      summary: `MCP Streamable HTTP endpoint of "${s.name}" (${s.config.type})`,
      post: {
        summary: 'JSON-RPC request, notification or response',
        security: [{ bearer: s.route.scopes }],
        requestBody: { required: true, content: json },
        responses: {
          200: { description: 'JSON or SSE answer' },
          202: { description: 'accepted (notification or response)' },
          401: err('no or bad token; `WWW-Authenticate` names `resource_metadata`'),
          403: err('insufficient scope or user not allowed'),
          502: err('backend unavailable: JSON-RPC error -32001'),
        },
      },
      get: {
        summary: 'SSE stream for server messages',
        security: [{ bearer: s.route.scopes }],
        responses: { 200: { description: 'event stream' } },
      },
      delete: {
        summary: 'End the session',
        security: [{ bearer: s.route.scopes }],
        responses: { 200: { description: 'ended' } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'mcp-gateway', version, description: 'OAuth 2.1 gateway in front of MCP servers.' },
    servers: [{ url: issuer }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068)' } },
    },
    paths,
  };
}
