import { z } from 'zod';
import type { IdentityProvider } from '../idp/types.js';
import type { PageModel } from '../pages/layout.js';
import type { SafeHtml } from '../pages/html.js';

const minuteS = 60;
const dayS = 24 * 60 * minuteS;

/** Defaults of the login and token flows (merged into the server's `defaults`). */
export const flowDefaults = {
  tokens: {
    /** Access-token lifetime, seconds. */
    accessTokenTtlSeconds: 3600,
    /** Refresh-token lifetime (renewed by every rotation), seconds. */
    refreshTokenTtlSeconds: 30 * dayS,
    /** A used refresh token presented again within this many seconds gets the same successor instead of revoking the family. */
    refreshGraceSeconds: 30,
    /** Authorization-code lifetime, seconds. */
    codeTtlSeconds: 60,
    /** Algorithm of new signing keys. */
    signingAlgorithm: 'ES256' as 'ES256' | 'RS256',
    /** Clock skew allowed when verifying `exp`/`iat`, seconds. */
    clockSkewSeconds: 10,
    /** Verified access tokens kept in memory by token string. */
    verifyCacheSize: 10_000,
    /** Live token families (one per authorization) under one grant (a user and a client); beyond it the oldest is revoked. */
    maxFamiliesPerGrant: 100,
  },
  /** How long a login (upstream state, consent page) may take, seconds. */
  loginTtlSeconds: 10 * minuteS,
  /**
   * How long a browser remembers a client it approved before signing in at a
   * third-party identity provider, seconds (renewed by each approval).
   */
  rememberConsentSeconds: 30 * dayS,
  forwardAuth: {
    /** Add `X-Access-Token` with the bearer token to a successful `/verify` answer. */
    forwardToken: false,
  },
};

const idpInstance = z.custom<IdentityProvider>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as IdentityProvider).begin === 'function' &&
    typeof (v as IdentityProvider).complete === 'function',
  {
    message:
      'must be an IdentityProvider (githubIdentityProvider(), oidcIdentityProvider(), localIdentityProvider())',
  },
);

const strs = z.array(z.string().min(1).max(200));

/** Declarative identity-provider configuration (what a config file can hold). */
export const identityProviderConfigSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('github'),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      allowedUsers: strs.optional(),
      allowedOrgs: strs.optional(),
      groups: z.boolean().optional(),
      baseUrl: z.string().url().optional(),
      apiUrl: z.string().url().optional(),
      timeoutMs: z.number().int().positive().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('oidc'),
      issuer: z.string().url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1).optional(),
      tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
      scopes: strs.optional(),
      allowedUsers: strs.optional(),
      allowedGroups: strs.optional(),
      groupsClaim: z.string().min(1).max(100).optional(),
      groupsFromUserinfo: z.boolean().optional(),
      timeoutMs: z.number().int().positive().optional(),
      id: z
        .string()
        .regex(/^[a-z0-9-]{1,32}$/)
        .optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('local'),
      users: z
        .array(
          z
            .object({
              username: z.string().min(1).max(100),
              passwordHash: z.string().startsWith('scrypt$', 'must come from hashPassword()'),
              name: z.string().max(200).optional(),
              email: z.string().max(320).optional(),
              groups: z.array(z.string().min(1).max(256)).max(100).optional(),
            })
            .strict(),
        )
        .default([]),
      /** scrypt cost passwords are held to (default N=2^17, r=8, p=1); lower it only in tests. */
      passwordCost: z
        .object({
          N: z
            .number()
            .int()
            .min(2 ** 10)
            .max(2 ** 20)
            .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
          r: z.number().int().min(1).max(32),
          p: z.number().int().min(1).max(16),
        })
        .strict()
        .optional(),
    })
    .strict(),
]);

/** Declarative identity-provider configuration. */
export type IdentityProviderConfig = z.input<typeof identityProviderConfigSchema>;

/** Option fields of the login and token flows; spread into the server's options schema. */
export const flowOptionsShape = {
  /**
   * Where users sign in: an {@link IdentityProvider} (`githubIdentityProvider()`,
   * `oidcIdentityProvider()`, `localIdentityProvider()` or your own) or a
   * declarative `{ type: 'github' | 'oidc' | 'local', … }`. Default: the local
   * provider with no users (nobody can sign in until you add some).
   */
  identityProvider: z.union([idpInstance, identityProviderConfigSchema]).optional(),
  /** Token lifetimes, signing algorithm, verification cache. */
  tokens: z
    .object({
      accessTokenTtlSeconds: z
        .number()
        .int()
        .min(30)
        .max(86_400)
        .default(flowDefaults.tokens.accessTokenTtlSeconds),
      refreshTokenTtlSeconds: z.number().int().min(60).default(flowDefaults.tokens.refreshTokenTtlSeconds),
      refreshGraceSeconds: z.number().int().min(0).max(300).default(flowDefaults.tokens.refreshGraceSeconds),
      codeTtlSeconds: z.number().int().min(5).max(600).default(flowDefaults.tokens.codeTtlSeconds),
      signingAlgorithm: z.enum(['ES256', 'RS256']).default(flowDefaults.tokens.signingAlgorithm),
      clockSkewSeconds: z.number().int().min(0).max(300).default(flowDefaults.tokens.clockSkewSeconds),
      verifyCacheSize: z.number().int().min(0).default(flowDefaults.tokens.verifyCacheSize),
      maxFamiliesPerGrant: z.number().int().min(1).default(flowDefaults.tokens.maxFamiliesPerGrant),
    })
    .strict()
    .prefault({}),
  /** How long a login may take (upstream state and consent page lifetime), seconds. */
  loginTtlSeconds: z.number().int().min(60).max(3600).default(flowDefaults.loginTtlSeconds),
  /**
   * How long a browser remembers (signed cookie) each self-registered client it
   * approved on the consent page shown before the redirect to a third-party
   * identity provider (GitHub, OIDC), seconds; `0` asks every time. Default 30 days.
   */
  rememberConsentSeconds: z
    .number()
    .int()
    .min(0)
    .max(400 * dayS)
    .default(flowDefaults.rememberConsentSeconds),
  /** Restyle hook for the HTML pages. */
  pages: z
    .object({
      css: z.string().max(100_000).optional(),
      productName: z.string().max(100).optional(),
      render: z
        .custom<(model: PageModel) => string | SafeHtml | undefined>((v) => typeof v === 'function', {
          message: 'must be a function',
        })
        .optional(),
    })
    .strict()
    .prefault({}),
  /** ForwardAuth `/verify`. */
  forwardAuth: z
    .object({
      forwardToken: z.boolean().default(flowDefaults.forwardAuth.forwardToken),
      /** Scopes every request must carry (a `?scope=` on the /verify URL adds more). */
      scopes: z.array(z.string().min(1)).optional(),
    })
    .strict()
    .prefault({}),
};
