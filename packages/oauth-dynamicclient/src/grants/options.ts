import { z } from 'zod';
import { JWT_BEARER_GRANT, publicJwksSchema, type GrantType } from '../clients/metadata.js';
import type { DnsResolver } from '../clients/safe-fetch.js';

/** Defaults of the machine-client grants (merged into the server's `defaults`). */
export const machineDefaults = {
  grants: {
    /** Serve the `client_credentials` grant (RFC 6749 §4.4) to confidential clients that registered it. */
    clientCredentials: false,
    /** Serve the RFC 7523 jwt-bearer grant for ID-JAGs from `trustedIdps`. */
    jwtBearer: false,
  },
  assertions: {
    /** Longest lifetime (`exp` − now, and now − `iat`) of a client assertion or ID-JAG, seconds. */
    maxLifetimeSeconds: 300,
  },
  remoteJwks: {
    /** Fetch key sets from loopback addresses (tests and local development only). */
    allowLoopback: false,
    /** Fetch key sets from RFC 1918 / unique-local addresses. */
    allowPrivate: false,
    timeoutMs: 5_000,
    /** Largest key-set document, bytes. */
    maxBytes: 64 * 1024,
    /** How long a fetched key set is used before it is fetched again, ms. */
    cacheMs: 5 * 60_000,
    /** A key set is re-fetched for an unknown `kid` at most this often, ms. */
    refetchCooldownMs: 30_000,
    /** Most key sets held in memory (oldest dropped first). */
    maxEntries: 100,
  },
};

export const httpUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.hash;
  } catch {
    return false;
  }
}, 'must be an http(s) URL without userinfo or fragment');

/** An enterprise identity provider whose ID-JAGs the jwt-bearer grant accepts. */
export const trustedIdpSchema = z
  .object({
    /** The IdP's issuer identifier, compared exactly with the ID-JAG's `iss`. */
    issuer: z.string().min(1).max(2000),
    /** Where the IdP publishes its signing keys (fetched through the SSRF-safe fetch, cached). */
    jwksUri: httpUrl.optional(),
    /** The IdP's public signing keys, given inline. */
    jwks: publicJwksSchema.optional(),
    /** JWS algorithms accepted from this IdP (default: every asymmetric one in `assertionAlgorithms`). */
    algorithms: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((v) => !v.jwks !== !v.jwksUri, 'give exactly one of jwks and jwksUri');

/** A trusted IdP as configured. */
export type TrustedIdp = z.output<typeof trustedIdpSchema>;

/** JWS algorithms accepted for client assertions and ID-JAGs (asymmetric only). */
export const assertionAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

/** Option fields of the machine-client grants; spread into the server's options schema. */
export const machineOptionsShape = {
  /** Which extra grants the token endpoint serves (a client must also register the grant). */
  grants: z
    .object({
      clientCredentials: z.boolean().default(machineDefaults.grants.clientCredentials),
      jwtBearer: z.boolean().default(machineDefaults.grants.jwtBearer),
    })
    .strict()
    .prefault({}),
  /** Enterprise IdPs whose ID-JAGs (`typ: oauth-id-jag+jwt`) the jwt-bearer grant accepts. */
  trustedIdps: z
    .array(trustedIdpSchema)
    .max(50)
    .default([])
    .refine((l) => new Set(l.map((i) => i.issuer)).size === l.length, 'issuers must be unique'),
  /** Limits on client assertions (`private_key_jwt`) and ID-JAGs. */
  assertions: z
    .object({
      maxLifetimeSeconds: z
        .number()
        .int()
        .min(30)
        .max(3600)
        .default(machineDefaults.assertions.maxLifetimeSeconds),
    })
    .strict()
    .prefault({}),
  /** Fetching `jwks_uri` of clients and trusted IdPs. */
  remoteJwks: z
    .object({
      allowLoopback: z.boolean().default(machineDefaults.remoteJwks.allowLoopback),
      allowPrivate: z.boolean().default(machineDefaults.remoteJwks.allowPrivate),
      timeoutMs: z.number().int().positive().default(machineDefaults.remoteJwks.timeoutMs),
      maxBytes: z.number().int().positive().default(machineDefaults.remoteJwks.maxBytes),
      cacheMs: z.number().int().nonnegative().default(machineDefaults.remoteJwks.cacheMs),
      refetchCooldownMs: z.number().int().nonnegative().default(machineDefaults.remoteJwks.refetchCooldownMs),
      maxEntries: z.number().int().positive().default(machineDefaults.remoteJwks.maxEntries),
      resolver: z
        .custom<DnsResolver>((v) => typeof v === 'function', { message: 'must be a function' })
        .optional(),
    })
    .strict()
    .prefault({}),
};

/** The grant types a server with these options serves (and lets clients register). */
export function enabledGrantTypes(grants: { clientCredentials: boolean; jwtBearer: boolean }): GrantType[] {
  return [
    'authorization_code',
    'refresh_token',
    ...(grants.clientCredentials ? (['client_credentials'] as const) : []),
    ...(grants.jwtBearer ? [JWT_BEARER_GRANT] : []),
  ];
}
