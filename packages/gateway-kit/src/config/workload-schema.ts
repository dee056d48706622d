import { z } from 'zod';
import { jwksSchema } from './jwks-schema.js';

/** Reserved for the gateway's own static clients (`mcp-gateway-account`, `mcp-gateway-cli`). */
const RESERVED_PREFIX = 'mcp-gateway-';

/** One rule of a workload issuer: which `sub` values get tokens, as which client. */
export const workloadSubjectConfigSchema = z
  .strictObject({
    subject: z.string().min(1).max(255).optional().describe('The exact `sub` of the workload JWT.'),
    subjectGlob: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'A glob over `sub`: `*` matches any run of characters (also `/` and `:`), everything else is literal, the whole `sub` must match. E.g. `repo:acme/*:ref:refs/heads/main`.',
      ),
    client: z
      .string()
      .regex(/^[A-Za-z0-9._~-]{1,100}$/, 'letters, digits and . _ ~ - (at most 100)')
      .refine(
        (id) => !id.startsWith(RESERVED_PREFIX),
        `ids starting with ${RESERVED_PREFIX} are the gateway's own`,
      )
      .describe(
        'The `client_id` the token is issued to: an `authorization.clients` entry, or else a public client of that id made for workloads.',
      ),
    scopes: z
      .array(z.string().min(1))
      .optional()
      .describe('Most the token may carry, e.g. `["mcp:fetch"]` (default: every scope of the resource).'),
    resource: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("The service's resource URL the token is for (default: the request's `resource`)."),
  })
  .refine((r) => !r.subject !== !r.subjectGlob, 'give exactly one of subject and subjectGlob');

/** A workload identity issuer whose JWTs the jwt-bearer grant accepts (RFC 7523 §2.1, MCP SEP-1933). */
export const workloadIssuerConfigSchema = z
  .strictObject({
    issuer: z.string().min(1).max(2000).describe("The issuer, compared exactly with the JWT's `iss`."),
    jwksUri: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("The issuer's signing keys (fetched with `authorization.keyFetch` rules, cached)."),
    jwks: jwksSchema.optional().describe("The issuer's signing keys, inline."),
    audience: z
      .array(z.string().min(1))
      .min(1)
      .max(10)
      .optional()
      .describe("Accepted `aud` values (default: the gateway's issuer and its `/token` URL)."),
    algorithms: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Accepted JWS algorithms (asymmetric only; default: RS/PS/ES 256-512 and EdDSA).'),
    subjects: z
      .array(workloadSubjectConfigSchema)
      .min(1)
      .max(200)
      .describe('Subject rules, first match wins; a `sub` no rule matches gets no token.'),
  })
  .refine((i) => !i.jwks !== !i.jwksUri, 'give exactly one of jwks and jwksUri');

/** `authorization.workloadIssuers`. */
export const workloadIssuersConfigSchema = z
  .array(workloadIssuerConfigSchema)
  .max(50)
  .default([])
  .describe(
    'Workload identity federation: platforms (Kubernetes, CI, clouds) whose JWTs a workload trades at `/token` (jwt-bearer grant) for a token; the workload is `workload:<issuer>#<sub>`. Turns the jwt-bearer grant on.',
  );

/** A workload issuer as configured. */
export type WorkloadIssuerConfig = z.output<typeof workloadIssuerConfigSchema>;
