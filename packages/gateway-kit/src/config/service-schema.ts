import { z } from 'zod';
import { statelessPoolSchema } from './stateless-schema.js';

/**
 * `services.<name>` of the config file: the three kinds of service the gateway serves (stdio
 * servers bridged in-process, upstream Streamable HTTP servers, the built-in fetch server).
 */
/** Service names become path segments, scope names and env-override keys. */
export const serviceNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'service names are lowercase letters, digits and dashes');

/** A positive whole number of seconds with a default. */
export const seconds = (description: string, fallback: number) =>
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
    .describe(
      'Only these user ids may use the service (default: every signed-in user): `local:alice`, `github:583231`, `oidc:<issuer>#<sub>`, and machine clients as `client:<client_id>`. Logins never match; a signed-in user finds their id on /account.',
    ),
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
  maxSessionsPerUser: z
    .number()
    .int()
    .min(0)
    .default(5)
    .describe(
      "Most concurrent sessions of one user (0: no cap). At the cap the user's least recently used idle session ends; when all are busy the user gets 429 with Retry-After.",
    ),
  sessionTimeout: seconds('Idle seconds before a session and its child are ended.', 900),
  requestTimeout: z
    .number()
    .int()
    .min(0)
    .default(60)
    .describe(
      'Seconds a request waits for the child; progress from the child restarts it. Then the client gets -32001 and the child notifications/cancelled. 0: no deadline.',
    ),
  maxRequestTimeout: seconds(
    'Longest total wait of a request whose progress keeps restarting its deadline.',
    600,
  ),
  initializeTimeout: seconds(
    "Seconds a new session's child has to answer initialize; then the session ends.",
    30,
  ),
  poolSize: z.number().int().min(0).default(0).describe('Children kept warm for new sessions.'),
  maxInFlightPerSession: z
    .number()
    .int()
    .positive()
    .default(256)
    .describe(
      'Most requests of one 2025 session waiting for the child at once; more get 429 (a JSON-RPC batch that would pass it is refused whole).',
    ),
  maxStreamQueueBytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024)
    .describe(
      "Most bytes an event stream of a session holds for a client that stops reading (node's buffer included); beyond, the stream is cut and its queue freed (the client can reconnect). Also bounds the messages held for a session's next GET stream.",
    ),
  stateless: statelessPoolSchema,
});

/** An upstream Streamable HTTP MCP server, reverse-proxied. */
export const httpServiceSchema = z.strictObject({
  type: z.literal('http'),
  ...routeFields,
  url: z
    .url({ protocol: /^https?$/ })
    .refine((u) => {
      const url = new URL(u);
      return url.username === '' && url.password === '';
    }, 'must not carry credentials (user:password@): give them under `credentials`')
    .describe('The upstream MCP endpoint, e.g. https://mcp.internal/mcp.'),
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
      z
        .strictObject({
          type: z.literal('oauth'),
          scope: z
            .string()
            .min(1)
            .optional()
            .describe(
              "Scopes every sign-in at the upstream asks for, together with what the user was granted there; set, it is also the ceiling: scopes an upstream challenge names outside it are never asked for. Unset: the `scope` of the upstream's 401 challenge, else its RFC 9728 document's `scopes_supported`, plus the scopes later challenges name (step-up).",
            ),
          clientId: z
            .string()
            .min(1)
            .optional()
            .describe(
              "A client registered with the upstream's authorization server by hand; without it the gateway registers itself (RFC 7591). Its redirect URI is `<issuer>/account/upstream/callback/<service>`.",
            ),
          clientSecret: z.string().min(1).optional().describe('The secret of `clientId`, when it has one.'),
          issuer: z
            .url({ protocol: /^https?$/ })
            .optional()
            .describe(
              "The authorization server `clientId` is registered with: its `issuer`, exactly as the upstream's RFC 9728 document names it. The client's id and secret are used with that server only; when the upstream names another, sign-in is refused (and logged) until the configuration changes. Default: the first authorization server the gateway meets with this `clientId`, remembered in the store.",
            ),
        })
        .describe(
          "Upstream sign-in: the upstream is protected by its own OAuth authorization server, and each user connects their account there once (from the gateway's account page, or the URL a `-32042` error gives). The gateway keeps the user's upstream tokens encrypted in its store, refreshes them and sends them on the gateway→upstream hop.",
        ),
    ])
    .optional()
    .describe(
      "Credential the gateway sends on the gateway→upstream hop. The client's token is never forwarded.",
    ),
  forwardIdentity: z.boolean().default(true).describe('Add X-User-Id and X-User-Name headers upstream.'),
  timeout: seconds('Seconds to wait for the upstream to start answering.', 60),
  maxSessions: z
    .number()
    .int()
    .positive()
    .default(1000)
    .describe(
      'Most upstream 2025 sessions bound to their users, all users together; an initialize beyond gets 503 (Retry-After) and the session it opened is ended upstream.',
    ),
  maxSessionsPerUser: z
    .number()
    .int()
    .positive()
    .default(10)
    .describe(
      "Most upstream 2025 sessions of one user; opening another forgets the user's least recently used one (404 from then on).",
    ),
  sessionTimeout: seconds(
    'Idle seconds before the gateway forgets an upstream 2025 session (404 from then on: the client opens a new one).',
    3600,
  ),
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
  maxConcurrentFetches: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Outgoing fetches in flight at most, all users together; more are refused (default 64).'),
  maxConcurrentFetchesPerUser: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Outgoing fetches in flight at most for one user; more are refused (default 4).'),
  conversionTimeout: z
    .number()
    .positive()
    .optional()
    .describe(
      'Seconds one HTML page may take to convert to Markdown in its worker thread; past it the tool returns a timeout result (default 10).',
    ),
});

export const serviceSchema = z.discriminatedUnion('type', [
  stdioServiceSchema,
  httpServiceSchema,
  fetchServiceSchema,
]);
