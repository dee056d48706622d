import { ADMIN_SCOPE } from '../../gateway/resources.js';
import { html, jsonOf, oauthError } from './schemas.js';

/** Which optional routes the gateway serves. */
export interface GatewayPathOptions {
  /** `/metrics` is served on the main listener (not on `metrics.listen`). */
  metrics: boolean;
}

const admin = [{ oauth2: [ADMIN_SCOPE] }];
const adminErrors = {
  401: oauthError('no or bad token; WWW-Authenticate names resource_metadata'),
  403: oauthError('not a gateway admin'),
};
const htmlPage = (summary: string, extra: Record<string, unknown> = {}) => ({
  get: { summary, responses: { 200: { description: 'HTML page', content: html }, ...extra } },
});

/** The routes the gateway answers itself under the issuer path `p`: operations, admin API and pages. */
export function gatewayPaths(p: string, opts: GatewayPathOptions): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    [`${p}/`]: htmlPage('Landing page for browsers: the services and how to connect', {
      404: oauthError('not a browser: the Accept header names no text/html'),
    }),
    [`${p}/account`]: htmlPage('Connected apps of the signed-in user (signs in first)', {
      302: { description: 'to sign-in' },
    }),
    [`${p}/healthz`]: {
      get: { summary: 'Liveness', responses: { 200: { description: 'alive', content: jsonOf('Health') } } },
    },
    [`${p}/readyz`]: {
      get: {
        summary: 'Readiness: store reachable and every service ready',
        responses: {
          200: { description: 'ready', content: jsonOf('Readiness') },
          503: { description: 'not ready; `checks` says what', content: jsonOf('Readiness') },
        },
      },
    },
    [`${p}/openapi.json`]: {
      get: {
        summary: 'This document; lists only the services the caller may use',
        security: [{}, { bearer: [] }],
        responses: { 200: { description: 'OpenAPI 3.1 document', content: { 'application/json': {} } } },
      },
    },
    [`${p}/servers`]: {
      get: {
        summary: 'Services the caller may use (a bearer token for any service narrows the list to that user)',
        security: [{}, { bearer: [] }],
        responses: { 200: { description: 'services', content: jsonOf('ServerList') } },
      },
    },
    [`${p}/admin/services`]: {
      get: {
        summary: 'List services (admin)',
        security: admin,
        responses: { 200: { description: 'services', content: jsonOf('ServiceList') }, ...adminErrors },
      },
    },
    [`${p}/admin/policies`]: {
      get: {
        summary:
          "The per-tool policies in force, in the config file's `policies` shape (admin); header x-mcp-gateway-policy-source: config or runtime",
        security: admin,
        responses: { 200: { description: 'policies', content: jsonOf('Policies') }, ...adminErrors },
      },
      put: {
        summary:
          'Replace the per-tool policies (admin); stored, so every instance and restart uses them until DELETE',
        security: admin,
        requestBody: { required: true, content: jsonOf('Policies') },
        responses: {
          200: { description: 'in force', content: jsonOf('Policies') },
          400: {
            description: 'invalid policies: zod issues with dotted paths',
            content: jsonOf('PolicyIssues'),
          },
          ...adminErrors,
          413: oauthError('body too large'),
        },
      },
      delete: {
        summary: "Drop the stored policies: the config file's apply again (admin)",
        security: admin,
        responses: { 204: { description: 'config file policies in force' }, ...adminErrors },
      },
    },
    [`${p}/admin/services/{name}`]: {
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
        security: admin,
        responses: {
          200: { description: 'the service', content: jsonOf('Service') },
          ...adminErrors,
          404: oauthError('unknown service'),
        },
      },
      put: {
        summary: 'Add or replace a runtime service (admin); the body is a service entry of the config schema',
        security: admin,
        requestBody: { required: true, content: jsonOf('ServiceConfig') },
        responses: {
          201: { description: 'stored', content: jsonOf('Service') },
          400: oauthError('invalid service, names the field'),
          ...adminErrors,
          409: oauthError('defined in the config file'),
          413: oauthError('body too large'),
        },
      },
      delete: {
        summary: 'Remove a runtime service (admin)',
        security: admin,
        responses: {
          204: { description: 'removed' },
          ...adminErrors,
          404: oauthError('unknown service'),
          409: oauthError('defined in the config file'),
        },
      },
    },
  };
  if (opts.metrics) {
    paths[`${p}/metrics`] = {
      get: {
        summary: 'Prometheus metrics (text exposition format); a bearer token when `metrics.token` is set',
        responses: {
          200: { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: { description: 'metrics.token set and not presented' },
        },
      },
    };
  }
  return paths;
}
