import { canonicalIssuer } from '@mcp-gateway/internal/oauth-metadata-urls';
import { z } from 'zod';
import { federatedEndpointSchema } from '../federation/config.js';
import { DPOP_DEFAULTS, dpopSchema } from './dpop.js';
import { instanceIdSchema } from './instance-schema.js';
import { jwksSchema } from './jwks-schema.js';
import { checkPolicyTargets, policiesSchema } from './policy-schema.js';
import { telemetrySchema } from './telemetry-schema.js';
import {
  fetchServiceSchema,
  httpServiceSchema,
  seconds,
  serviceNameSchema,
  serviceSchema,
  stdioServiceSchema,
} from './service-schema.js';
import { workloadIssuersConfigSchema } from './workload-schema.js';

/**
 * The gateway's configuration, validated with zod. Every object is strict, so
 * a misspelt key is an error that names it instead of a silently ignored line.
 * Durations are in seconds. The published JSON Schema
 * (`schema/config.schema.json`) is generated from this file.
 */

export { fetchServiceSchema, httpServiceSchema, serviceNameSchema, serviceSchema, stdioServiceSchema };

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
          groups: z
            .array(z.string().min(1).max(256))
            .max(100)
            .optional()
            .describe('Groups of the user, for `policies` rules.'),
        }),
      )
      .default([])
      .describe('Users declared in the config; `mcp-gateway users add` keeps others in the store.'),
  }),
  z.strictObject({
    type: z.literal('github'),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    allowedUsers: allowList(
      'GitHub users admitted by numeric id (`github:583231` or `583231`; logins are not matched, they can be renamed); `*` admits everyone; empty admits nobody.',
    ),
    allowedOrgs: allowList(
      'Members of these organisations are admitted. An all-digit entry is an organisation id and matches only ids (preferred: an id never changes hands); any other entry is a login and matches only logins, case-insensitively (an organisation can rename and its old login be registered by anyone). `*` admits members of any organisation.',
    ),
    groups: z
      .boolean()
      .default(false)
      .describe(
        'Read org and team memberships as groups `github-org:<id>`, `github-team:<id>` (numeric ids) for `policies`; asks for `read:org`.',
      ),
    baseUrl: z.url().optional().describe('GitHub web base URL (GitHub Enterprise, tests).'),
    apiBaseUrl: z.url().optional().describe('GitHub API base URL (GitHub Enterprise, tests).'),
  }),
  z.strictObject({
    type: z.literal('oidc'),
    issuer: z.url().describe('The OpenID Provider issuer; discovery is read from it.'),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    scopes: z.array(z.string()).default(['openid', 'profile', 'email']),
    allowedUsers: allowList(
      "The provider's `sub` or the qualified id `oidc:<issuer>#<sub>` (both matched exactly, case-sensitively), or an e-mail address (an entry with `@`, case-insensitive) the provider marks verified; `preferred_username` is never matched. `*` admits everyone; empty admits nobody.",
    ),
    groupsClaim: z
      .string()
      .min(1)
      .max(100)
      .default('groups')
      .describe("The ID token's claim listing the user's groups, for `policies`."),
    groupsFromUserinfo: z
      .boolean()
      .default(false)
      .describe('Read the groups claim from the userinfo endpoint when the ID token lacks it.'),
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
  secret: z
    .string()
    .min(16)
    .describe(
      'Signing key: `whsec_<base64>` (Standard Webhooks) or any string of 16+ characters (its UTF-8 bytes).',
    ),
  events: z.array(webhookEventSchema).default(['*']),
  includeArguments: z.boolean().default(false).describe('Include tool-call arguments in tool_call events.'),
  maxAttempts: z.number().int().min(1).max(20).default(5),
  timeout: seconds('Seconds per delivery attempt.', 10),
});

/** A machine client declared in the config (`client_credentials`, `private_key_jwt`, jwt-bearer). */
export const machineClientSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._~-]{1,100}$/, 'letters, digits and . _ ~ - (at most 100)')
      .describe('The `client_id`. Its tokens of `client_credentials` have the subject `client:<id>`.'),
    name: z.string().max(200).optional().describe('Shown on consent and account pages.'),
    secretHash: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, 'the base64url SHA-256 digest of the secret (43 characters)')
      .optional()
      .describe(
        'SHA-256 of the client secret, base64url without padding (`mcp-gateway` never holds the plaintext): `printf %s "$SECRET" | openssl dgst -sha256 -binary | basenc --base64url | tr -d =`.',
      ),
    authMethod: z
      .enum(['client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How a client with `secretHash` sends its secret.'),
    jwks: jwksSchema.optional().describe('Public keys of a `private_key_jwt` client.'),
    jwksUri: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Where a `private_key_jwt` client publishes its public keys.'),
    grants: z
      .array(z.enum(['client_credentials', 'jwt-bearer']))
      .min(1)
      .default(['client_credentials'])
      .describe(
        '`client_credentials` (the client acts as itself) and/or `jwt-bearer` (ID-JAGs of trusted IdPs).',
      ),
    scopes: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Scopes the client may get, e.g. `["mcp:fetch"]`. With `client_credentials` a client gets only these (none when absent).',
      ),
  })
  .refine(
    (c) => [c.secretHash, c.jwks, c.jwksUri].filter((v) => v !== undefined).length === 1,
    'give exactly one of secretHash, jwks and jwksUri',
  );

/** An enterprise IdP whose ID-JAGs the jwt-bearer grant accepts. */
export const trustedIdpSchema = z
  .strictObject({
    issuer: z
      .url({ protocol: /^https?$/ })
      .describe("The IdP's issuer, compared exactly with the ID-JAG's `iss`."),
    jwksUri: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("The IdP's signing keys (fetched, cached)."),
    jwks: jwksSchema.optional().describe("The IdP's signing keys, inline."),
  })
  .refine((i) => !i.jwks !== !i.jwksUri, 'give exactly one of jwks and jwksUri');

/** Grants for machine clients and enterprise IdPs. */
export const authorizationSchema = z.strictObject({
  grants: z
    .strictObject({
      clientCredentials: z
        .boolean()
        .default(false)
        .describe('Serve `client_credentials` (RFC 6749 §4.4) to confidential clients that registered it.'),
      jwtBearer: z
        .boolean()
        .default(false)
        .describe(
          'Serve the RFC 7523 jwt-bearer grant for ID-JAGs of `trustedIdps` (MCP enterprise-managed authorization).',
        ),
    })
    .default({ clientCredentials: false, jwtBearer: false }),
  trustedIdps: z
    .array(trustedIdpSchema)
    .default([])
    .describe('Enterprise IdPs whose ID-JAGs are accepted; their users are `oidc:<issuer>#<sub>`.'),
  workloadIssuers: workloadIssuersConfigSchema,
  clients: z
    .array(machineClientSchema)
    .default([])
    .describe('Machine clients known from the config (others may register dynamically).'),
  dynamicRegistration: z
    .boolean()
    .default(true)
    .describe(
      'Serve RFC 7591/7592 dynamic client registration (deprecated in MCP 2026-07-28). `false`: no `registration_endpoint` in the metadata and `/register` answers 404; Client ID Metadata Documents and configured clients keep working.',
    ),
  rememberConsent: z
    .number()
    .int()
    .min(0)
    .max(400 * 24 * 3600)
    .default(30 * 24 * 3600)
    .describe(
      'Seconds a browser remembers an app that registered itself (DCR or a client metadata document) approved on the consent page the GitHub and OIDC identity providers show before sending the user there (a signed cookie per app and request); `0` asks every time. Default 30 days.',
    ),
  keyFetch: z
    .strictObject({
      allowLoopback: z.boolean().default(false),
      allowPrivate: z.boolean().default(false),
    })
    .default({ allowLoopback: false, allowPrivate: false })
    .describe('Which addresses `jwksUri` / `jwks_uri` may point to (public only by default).'),
  dpop: dpopSchema.describe('DPoP (RFC 9449) sender-constrained tokens; see `config/dpop.ts`.'),
});

/** Where and to whom `/metrics` is served, and how many tool series it may hold. */
export const metricsSchema = z.strictObject({
  token: z
    .string()
    .min(16)
    .optional()
    .describe(
      'Bearer token a scraper must send (`Authorization: Bearer <token>`); without it `/metrics` is open. Set it from `MCP_GATEWAY__METRICS__TOKEN`.',
    ),
  listen: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535),
    })
    .optional()
    .describe('Serve `/metrics` on this separate listener only (the main listener then answers 404 there).'),
  maxToolsPerService: z
    .number()
    .int()
    .positive()
    .max(10_000)
    .default(100)
    .describe(
      'Most `tool` label values per service in `mcp_gateway_tool_calls_total`; further tools count as `other`.',
    ),
});

/** An issuer identifier has no query, fragment or userinfo (RFC 8414 §2): checked, never dropped. */
function plainIssuer(issuer: string): boolean {
  const url = new URL(issuer);
  return !issuer.includes('?') && !issuer.includes('#') && !url.username && !url.password;
}

const configFields = z.strictObject({
  $schema: z.string().optional(),
  issuer: z
    .url({ protocol: /^https?$/ })
    .refine(plainIssuer, 'must not have a query, fragment or user name (RFC 8414 §2)')
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
  instanceId: instanceIdSchema,
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
    .optional()
    .describe(
      'User ids allowed the admin API (`/admin/...`, scope `mcp:admin`), e.g. `local:admin`, `github:583231`, `oidc:<issuer>#<sub>`. Default: `["local:admin"]` with the local identity provider, nobody with GitHub or OIDC.',
    ),
  admin: z
    .strictObject({
      allowStdioServices: z
        .boolean()
        .default(false)
        .describe(
          'Let the admin API add or replace `stdio` services. A stdio service runs a command on the gateway host, so this makes every admin able to run code here.',
        ),
      allowPrivateHttpServices: z
        .boolean()
        .default(false)
        .describe(
          'Let `http` services added through the admin API reach internal addresses (loopback, private, link-local, unique-local, CGNAT, ...). Off, their host must resolve to public addresses only, checked when the admin adds the service (400) and on every connection (502 to the caller), and the gateway connects to the address it checked. Cloud metadata endpoints (169.254.169.254, ...) stay refused either way. Services in the config file are not checked.',
        ),
    })
    .default({ allowStdioServices: false, allowPrivateHttpServices: false })
    .describe('What the admin API may do.'),
  store: storeSchema.default({ type: 'embedded', durability: 'commit' }),
  tokens: z
    .strictObject({
      accessTokenTtl: seconds('Access token lifetime.', 3600),
      refreshTokenTtl: seconds('Refresh token lifetime.', 30 * 24 * 3600),
      codeTtl: seconds('Authorization code lifetime.', 60),
    })
    .default({ accessTokenTtl: 3600, refreshTokenTtl: 30 * 24 * 3600, codeTtl: 60 }),
  services: z.record(serviceNameSchema, serviceSchema).default({}),
  policies: policiesSchema,
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
  federated: z
    .array(federatedEndpointSchema)
    .default([])
    .describe('Federated endpoints: one MCP URL over several services (see `federation/config.ts`).'),
  webhooks: z.array(webhookSchema).default([]),
  telemetry: telemetrySchema.describe(
    'OpenTelemetry traces and metrics by OTLP; see `config/telemetry-schema.ts`.',
  ),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      format: z
        .enum(['auto', 'json', 'pretty'])
        .default('auto')
        .describe(
          '`auto`: human-readable lines when stdout is a terminal (one line per request only at `debug`), JSON lines otherwise.',
        ),
    })
    .default({ level: 'info', format: 'auto' }),
  allowedHosts: z
    .array(
      z
        .string()
        .regex(
          /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i,
          'a host name without port, such as mcp.example.com or [::1]',
        )
        .transform((h) => h.toLowerCase()),
    )
    .default([])
    .describe(
      "Host names (no port) the gateway answers besides the issuer's host, service hosts and protected-resource hosts; any other `Host` (or trusted `X-Forwarded-Host`) gets 421 (DNS-rebinding protection). A loopback issuer admits every loopback name.",
    ),
  metrics: metricsSchema.default({ maxToolsPerService: 100 }),
  authorization: authorizationSchema
    .default({
      grants: { clientCredentials: false, jwtBearer: false },
      trustedIdps: [],
      workloadIssuers: [],
      clients: [],
      dynamicRegistration: true,
      rememberConsent: 30 * 24 * 3600,
      keyFetch: { allowLoopback: false, allowPrivate: false },
      dpop: DPOP_DEFAULTS,
    })
    .describe(
      'Grants for machine clients (`client_credentials`, `private_key_jwt`) and enterprise IdPs (ID-JAG).',
    ),
});

/** The config file's schema. Admins by default: the first-start local user, by id; nobody with GitHub or OIDC. */
export const configSchema = configFields.superRefine(checkPolicyTargets).transform((c) => ({
  ...c,
  // Published in the one spelling its authorization server uses (clients compare issuers exactly).
  issuer: canonicalIssuer(new URL(c.issuer)),
  admins: c.admins ?? (c.idp.type === 'local' ? ['local:admin'] : []),
}));

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
export type MetricsConfig = z.output<typeof metricsSchema>;
export type AuthorizationConfig = z.output<typeof authorizationSchema>;
export type MachineClientConfig = z.output<typeof machineClientSchema>;

/** The JSON Schema (draft 2020-12) of the config file, for editors and `$schema`. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://github.com/mcp-gateway/mcp-gateway/tree/main/packages/gateway-kit/schema/config.schema.json',
    title: 'mcp-gateway configuration',
  };
}
