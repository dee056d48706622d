import { z } from 'zod';
import { publicJwksSchema } from '../clients/metadata.js';
import { assertionAlgorithms, httpUrl } from './options.js';

/**
 * A glob over a workload's `sub`: `*` matches any run of characters
 * (including none, and including `/` and `:`); every other character is
 * literal; the whole subject must match. Linear in practice and never a
 * backtracking regex, so a configured pattern cannot be a ReDoS.
 */
export function globMatches(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  let star = -1;
  let mark = 0;
  while (s < subject.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === subject[s]) {
      p++;
      s++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = s;
    } else if (star >= 0) {
      p = star + 1;
      s = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

const scopeString = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'space-separated scopes');

/** One subject rule of a workload issuer: which `sub` values get tokens as which client. */
export const workloadSubjectSchema = z
  .object({
    /** The exact `sub` of the workload JWT. */
    subject: z.string().min(1).max(255).optional(),
    /** A glob over `sub` (`*` = any run of characters; see {@link globMatches}), e.g. `repo:acme/*:ref:refs/heads/main`. */
    subjectGlob: z.string().min(1).max(255).optional(),
    /** The client the token is issued to: a static or registered client id. */
    clientId: z.string().min(1).max(200),
    /** Most the token may carry (space-separated), on top of the client's registered scope. */
    scope: scopeString.optional(),
    /** The configured resource the token is for (default: the request's `resource`, else the default resource). */
    resource: z.string().min(1).max(2000).optional(),
  })
  .strict()
  .refine((v) => !v.subject !== !v.subjectGlob, 'give exactly one of subject and subjectGlob');

/** A subject rule as configured. */
export type WorkloadSubject = z.output<typeof workloadSubjectSchema>;

/**
 * A workload identity issuer (Kubernetes service accounts, GitHub Actions,
 * a cloud's instance identity…) whose JWTs the jwt-bearer grant accepts as
 * the workload's credential (RFC 7523 §2.1, MCP SEP-1933).
 */
export const workloadIssuerSchema = z
  .object({
    /** The issuer identifier, compared exactly with the JWT's `iss`. */
    issuer: z.string().min(1).max(2000),
    /** Where the issuer publishes its signing keys (fetched through the SSRF-safe fetch, cached). */
    jwksUri: httpUrl.optional(),
    /** The issuer's public signing keys, given inline. */
    jwks: publicJwksSchema.optional(),
    /**
     * Accepted `aud` values (any one must appear). Default: this server's
     * issuer (with and without a trailing `/`) and its token endpoint, which
     * RFC 7523 §3 item 3 allows.
     */
    audience: z
      .union([z.string().min(1).max(2000), z.array(z.string().min(1).max(2000)).min(1).max(10)])
      .optional(),
    /** JWS algorithms accepted (asymmetric only; default: all of `assertionAlgorithms`). */
    algorithms: z
      .array(
        z.string().refine((a) => assertionAlgorithms.includes(a), 'not an accepted asymmetric algorithm'),
      )
      .min(1)
      .optional(),
    /** Subject rules, tried in order; the first match decides. A `sub` no rule matches is refused. */
    subjects: z.array(workloadSubjectSchema).min(1).max(200),
  })
  .strict()
  .refine((v) => !v.jwks !== !v.jwksUri, 'give exactly one of jwks and jwksUri');

/** A workload issuer as configured. */
export type WorkloadIssuer = z.output<typeof workloadIssuerSchema>;

/** The `workloadIssuers` option: unique issuers. */
export const workloadIssuersSchema = z
  .array(workloadIssuerSchema)
  .max(50)
  .default([])
  .refine((l) => new Set(l.map((i) => i.issuer)).size === l.length, 'issuers must be unique');

/** The first rule of `issuer` that matches `sub`. */
export function matchSubject(issuer: WorkloadIssuer, sub: string): WorkloadSubject | undefined {
  return issuer.subjects.find((r) =>
    r.subject !== undefined ? r.subject === sub : globMatches(r.subjectGlob!, sub),
  );
}
