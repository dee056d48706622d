import { z } from 'zod';
import { policiesSchema } from '../../config/policy-schema.js';
import { serviceSchema } from '../../config/schema.js';

/** A `$ref` to a schema under `components.schemas`. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A JSON body whose schema is the named component. */
export const jsonOf = (name: string) => ({ 'application/json': { schema: ref(name) } });

/** An HTML page body. */
export const html = { 'text/html': { schema: { type: 'string' } } };

/** A form body (`application/x-www-form-urlencoded`) with these string fields. */
export function form(required: string[], fields: Record<string, string>) {
  return {
    'application/x-www-form-urlencoded': {
      schema: {
        type: 'object',
        required,
        properties: Object.fromEntries(
          Object.entries(fields).map(([k, description]) => [k, { type: 'string', description }]),
        ),
      },
    },
  };
}

/** A response carrying an OAuth / gateway error object. */
export const oauthError = (description: string) => ({ description, content: jsonOf('OAuthError') });

/** A redirect response. */
export const redirect = (description: string) => ({
  description,
  headers: { Location: { schema: { type: 'string', format: 'uri' } } },
});

/** JSON Schema (draft 2020-12) of what a zod schema accepts as input, without the `$schema` dialect. */
function inputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...out } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return out;
}

/**
 * JSON Schema (draft 2020-12) of a service entry as the admin API reads it:
 * generated from the config's zod {@link serviceSchema}, the same schema
 * `PUT /admin/services/{name}` validates with.
 */
export function serviceJsonSchema(): Record<string, unknown> {
  return inputJsonSchema(serviceSchema);
}

/**
 * JSON Schema of the `policies` document that `GET /admin/policies` returns and
 * `PUT /admin/policies` validates: generated from the config's zod {@link policiesSchema}.
 */
export function policiesJsonSchema(): Record<string, unknown> {
  return inputJsonSchema(policiesSchema);
}

const str = { type: 'string' };
const strings = { type: 'array', items: str };
const open = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: true,
});

/** The named schemas of the document (`components.schemas`). */
export function componentSchemas(): Record<string, unknown> {
  return {
    ServiceConfig: serviceJsonSchema(),
    Policies: policiesJsonSchema(),
    OAuthError: open({ error: str, error_description: str }, ['error']),
    PolicyIssues: open(
      {
        error: { type: 'string', enum: ['invalid_policies'] },
        error_description: str,
        issues: {
          type: 'array',
          items: open(
            {
              path: { type: 'string', description: 'dotted path, e.g. services.fetch.rules[0].when' },
              message: str,
            },
            ['path', 'message'],
          ),
        },
      },
      ['error', 'issues'],
    ),
    Service: open(
      {
        name: str,
        origin: { type: 'string', enum: ['config', 'runtime'] },
        url: { type: 'string', format: 'uri' },
        scopes: strings,
        config: { type: 'object', description: 'the service entry; credentials and env values redacted' },
      },
      ['name', 'url', 'scopes', 'config'],
    ),
    ServiceList: open({ services: { type: 'array', items: ref('Service') } }, ['services']),
    ServerList: open(
      {
        servers: {
          type: 'array',
          items: open(
            {
              name: str,
              title: str,
              type: { type: 'string', enum: ['stdio', 'http', 'fetch'] },
              url: { type: 'string', format: 'uri' },
              resource_metadata: { type: 'string', format: 'uri' },
              scopes: strings,
            },
            ['name', 'type', 'url', 'resource_metadata', 'scopes'],
          ),
        },
      },
      ['servers'],
    ),
    Health: open({ status: str }, ['status']),
    Readiness: open({ status: str, checks: { type: 'object' } }, ['status']),
    JsonRpcMessage: {
      description: 'A JSON-RPC 2.0 message or batch (MCP Streamable HTTP transport)',
      oneOf: [
        open({ jsonrpc: { const: '2.0' }, method: str, id: { type: ['string', 'integer'] } }, ['jsonrpc']),
        { type: 'array', items: { type: 'object' } },
      ],
    },
    ClientMetadata: open({
      redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' } },
      client_name: str,
      token_endpoint_auth_method: str,
      grant_types: strings,
      response_types: strings,
      scope: str,
    }),
    ClientInformation: {
      allOf: [
        ref('ClientMetadata'),
        open(
          {
            client_id: str,
            client_secret: str,
            client_id_issued_at: { type: 'integer' },
            client_secret_expires_at: { type: 'integer' },
            registration_access_token: str,
            registration_client_uri: { type: 'string', format: 'uri' },
          },
          ['client_id'],
        ),
      ],
    },
    TokenResponse: open(
      {
        access_token: str,
        token_type: str,
        expires_in: { type: 'integer' },
        refresh_token: str,
        scope: str,
      },
      ['access_token', 'token_type'],
    ),
    Introspection: open(
      {
        active: { type: 'boolean' },
        sub: str,
        client_id: str,
        scope: str,
        aud: {},
        exp: { type: 'integer' },
      },
      ['active'],
    ),
    JwkSet: open({ keys: { type: 'array', items: { type: 'object' } } }, ['keys']),
    AuthorizationServerMetadata: open(
      {
        issuer: str,
        authorization_endpoint: str,
        token_endpoint: str,
        registration_endpoint: str,
        scopes_supported: strings,
      },
      ['issuer', 'authorization_endpoint', 'token_endpoint'],
    ),
    ProtectedResourceMetadata: open(
      { resource: str, authorization_servers: strings, scopes_supported: strings, resource_name: str },
      ['resource', 'authorization_servers'],
    ),
  };
}
