import { z } from 'zod';

/**
 * The gateway's configuration, validated with zod. Every object is strict, so
 * a misspelt key is an error that names it instead of a silently ignored line.
 * Durations are in seconds. The published JSON Schema
 * (`schema/config.schema.json`) is generated from this file.
 */

/** Service names become path segments, scope names and env-override keys. */
export const serviceNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'service names are lowercase letters, digits and dashes');

const seconds = (description: string, fallback: number) =>
  z.number().int().positive().default(fallback).describe(description);

const routeFields = {
  title: z
    .string()
    .min(1)
    .optional()
    .describe('Human name shown in metadata (`resource_name`) and on pages.'),
  path: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'a path prefix such as /fetch (no trailing slash)')
    .optional()
    .describe('Path prefix under the public URL; the MCP endpoint is `<prefix>/mcp`. Default `/<name>`.'),
  host: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d+)?$/i, 'a host name such as fetch.example.com, optionally with a port')
    .optional()
    .describe('Route by host instead of path: the MCP endpoint is `<scheme>://<host>/mcp`.'),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'scope tokens have no spaces or quotes'))
    .optional()
    .describe('Scopes a token needs for this service. Default `["mcp:<name>"]`.'),
  users: z
    .array(z.string().min(1))
    .optional()
    .describe('Only these user ids may use the service (default: every signed-in user).'),
  enabled: z.boolean().default(true).describe('Set false to keep the entry but not serve it.'),
};

/** A stdio MCP server, bridged in-process, one child per session. */
export const stdioServiceSchema = z.strictObject({
  type: z.literal('stdio'),
  ...routeFields,
  command: z.string().min(1).describe('Executable to start for each session.'),
  args: z.array(z.string()).default([]).describe('Arguments for the command.'),
  cwd: z.string().optional().describe('Working directory of the child.'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
    .default({})
    .describe('Fixed environment variables for the child.'),
  passEnv: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
    .default([])
    .describe("Names of the gateway's own environment variables passed to the child (allow-list)."),
  identityEnv: z
    .boolean()
    .default(true)
    .describe('Give each child the signed-in user as MCP_USER_ID and MCP_USER_NAME.'),
  maxSessions: z.number().int().positive().default(50).describe('Most concurrent sessions (children).'),
  sessionTimeout: seconds('Idle seconds before a session and its child are ended.', 900),
  poolSize: z.number().int().min(0).default(0).describe('Children kept warm for new sessions.'),
});

/** An upstream Streamable HTTP MCP server, reverse-proxied. */
export const httpServiceSchema = z.strictObject({
  type: z.literal('http'),
  ...routeFields,
  url: z.url({ protocol: /^https?$/ }).describe('The upstream MCP endpoint, e.g. https://mcp.internal/mcp.'),
  credentials: z
    .discriminatedUnion('type', [
      z.strictObject({
        type: z.literal('bearer'),
        token: z.string().min(1).describe('Sent as `Authorization: Bearer <token>` to the upstream.'),
      }),
      z.strictObject({
        type: z.literal('header'),
        name: z.string().regex(/^[A-Za-z0-9-]+$/),
        value: z.string().min(1),
      }),
    ])
    .optional()
    .describe(
      "Credential the gateway sends on the gateway→upstream hop. The client's token is never forwarded.",
    ),
  forwardIdentity: z.boolean().default(true).describe('Add X-User-Id and X-User-Name headers upstream.'),
  timeout: seconds('Seconds to wait for the upstream to start answering.', 60),
});

/** The built-in fetch server, in-process. */
export const fetchServiceSchema = z.strictObject({
  type: z.literal('fetch'),
  ...routeFields,
  allowHosts: z
    .array(z.string().min(1))
    .default([])
    .describe('Hosts or CIDRs exempt from SSRF refusal (for private deployments and tests).'),
  ignoreRobotsTxt: z.boolean().default(false),
  userAgent: z.string().min(1).optional(),
  maxSize: z.number().int().positive().optional().describe('Response size cap in bytes.'),
  timeout: z.number().int().positive().optional().describe('Total fetch timeout in seconds.'),
});

export const serviceSchema = z.discriminatedUnion('type', [
  stdioServiceSchema,
  httpServiceSchema,
  fetchServiceSchema,
]);

const allowList = (description: string) => z.array(z.string().min(1)).default([]).describe(description);

export const idpSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('local'),
    users: z
      .array(
        z.strictObject({
          username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/),
          name: z.string().optional(),
          passwordHash: z.string().startsWith('scrypt$', 'an scrypt hash from `mcp-gateway users passwd`'),
        }),
      )
      .default([])
      .describe('Users declared in the config; `mcp-gateway users add` keeps others in the store.'),
  }),
  z.strictObject({
    type: z.literal('github'),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    allowedUsers: allowList('GitHub logins admitted; `*` admits everyone; empty admits nobody.'),
    allowedOrgs: allowList('Members of these organisations are admitted.'),
    baseUrl: z.url().optional().describe('GitHub web base URL (GitHub Enterprise, tests).'),
    apiBaseUrl: z.url().optional().describe('GitHub API base URL (GitHub Enterprise, tests).'),
  }),
  z.strictObject({
    type: z.literal('oidc'),
    issuer: z.url().describe('The OpenID Provider issuer; discovery is read from it.'),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    scopes: z.array(z.string()).default(['openid', 'profile', 'email']),
    allowedUsers: allowList('Subjects or emails admitted; `*` admits everyone; empty admits nobody.'),
  }),
]);

export const storeSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('embedded'),
    path: z
      .string()
      .optional()
      .describe(
        'Database file (LMDB; `-lock` beside it); default `<dataDir>/store.mdb`. A `<dataDir>/store.json` of the old file store is imported on first start and renamed `store.json.imported-<time>`.',
      ),
    durability: z
      .enum(['commit', 'flush'])
      .default('commit')
      .describe(
        'When a write counts as done: `commit` once committed (survives the gateway being killed at any moment; a power cut can lose the last seconds and damage the file), `flush` once fsynced to disk (survives a power cut; several times slower on a busy disk).',
      ),
  }),
  z
    .strictObject({
      type: z.literal('file'),
      path: z.string().optional().describe('Store file; default `<dataDir>/store.json`.'),
    })
    .describe(
      'Legacy: one JSON file rewritten on every write, so writes slow down as it grows. Prefer `embedded`.',
    ),
  z.strictObject({ type: z.literal('memory') }),
  z.strictObject({
    type: z.literal('redis'),
    url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
    prefix: z.string().default('mcp-gateway:'),
  }),
]);

export const webhookEventSchema = z.enum([
  '*',
  'login',
  'registration',
  'tool_call',
  'revocation',
  'consent',
  'token',
  'service',
]);

export const webhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  secret: z.string().min(16).describe('HMAC-SHA256 key for the X-MCP-Signature header.'),
  events: z.array(webhookEventSchema).default(['*']),
  includeArguments: z.boolean().default(false).describe('Include tool-call arguments in tool_call events.'),
  maxAttempts: z.number().int().min(1).max(20).default(5),
  timeout: seconds('Seconds per delivery attempt.', 10),
});

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  issuer: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:8080')
    .describe('Public URL of the gateway; also the OAuth issuer.'),
  listen: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
    })
    .default({ host: '127.0.0.1', port: 8080 })
    .describe('Where the gateway listens (port 0 picks a free port).'),
  dataDir: z
    .string()
    .default('.mcp-gateway')
    .describe('Folder for the embedded store and generated secrets.'),
  trustProxy: z
    .boolean()
    .default(false)
    .describe('Believe X-Forwarded-For/Proto/Host from a proxy in front.'),
  cors: z
    .strictObject({ origins: z.array(z.string()).default([]) })
    .default({ origins: [] })
    .describe('Browser origins allowed on the OAuth endpoints (`*` for any).'),
  idp: idpSchema.default({ type: 'local', users: [] }),
  admins: z
    .array(z.string().min(1))
    .default(['admin'])
    .describe('User ids allowed the `mcp:admin` scope (admin API, `/admin/...`).'),
  store: storeSchema.default({ type: 'embedded', durability: 'commit' }),
  tokens: z
    .strictObject({
      accessTokenTtl: seconds('Access token lifetime.', 3600),
      refreshTokenTtl: seconds('Refresh token lifetime.', 30 * 24 * 3600),
      codeTtl: seconds('Authorization code lifetime.', 60),
    })
    .default({ accessTokenTtl: 3600, refreshTokenTtl: 30 * 24 * 3600, codeTtl: 60 }),
  services: z.record(serviceNameSchema, serviceSchema).default({}),
  protectedResources: z
    .array(
      z.strictObject({
        resource: z
          .url({ protocol: /^https?$/ })
          .describe('Canonical URI of an MCP endpoint served by someone else.'),
        scopes: z.array(z.string().min(1)).min(1),
        title: z.string().optional(),
      }),
    )
    .default([])
    .describe(
      'Resources the gateway issues tokens for but does not serve: MCP servers behind Traefik, nginx or Caddy that call `/verify` (ForwardAuth).',
    ),
  webhooks: z.array(webhookSchema).default([]),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
});

/** The validated configuration, defaults filled in. */
export type GatewayConfig = z.output<typeof configSchema>;
/** The configuration as written in a file (every field with a default is optional). */
export type GatewayConfigInput = z.input<typeof configSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type StdioServiceConfig = z.output<typeof stdioServiceSchema>;
export type HttpServiceConfig = z.output<typeof httpServiceSchema>;
export type FetchServiceConfig = z.output<typeof fetchServiceSchema>;
export type IdpConfig = z.output<typeof idpSchema>;
export type StoreConfig = z.output<typeof storeSchema>;
export type WebhookConfig = z.output<typeof webhookSchema>;
export type WebhookEvent = z.output<typeof webhookEventSchema>;

/** The JSON Schema (draft 2020-12) of the config file, for editors and `$schema`. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://github.com/mcp-gateway/mcp-gateway/tree/main/packages/gateway-kit/schema/config.schema.json',
    title: 'mcp-gateway configuration',
  };
}
