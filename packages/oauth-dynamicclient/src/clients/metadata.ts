import { z } from 'zod';
import { invalidClientMetadata, invalidRedirectUri, OAuthError } from '../http/errors.js';
import { checkRedirectUri, type RedirectKind } from './redirect-uri.js';

/** Client authentication methods this server supports at the token endpoint. */
export const tokenEndpointAuthMethods = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const;
export type TokenEndpointAuthMethod = (typeof tokenEndpointAuthMethods)[number];

/** Auth methods that present a client secret. */
export const usesClientSecret = (m: TokenEndpointAuthMethod): boolean =>
  m === 'client_secret_basic' || m === 'client_secret_post';

/** RFC 7523 §2.1 grant type (here: for ID-JAGs, the MCP enterprise-managed authorization). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer' as const;

/** Grant types clients may register. */
export const supportedGrantTypes = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  JWT_BEARER_GRANT,
] as const;
export type GrantType = (typeof supportedGrantTypes)[number];

/** A public JWK as a client registers it (RFC 7517); private and symmetric keys are refused. */
export type PublicJwk = Record<string, unknown> & { kty: string };
/** A JWK Set of public keys. */
export interface PublicJwks {
  keys: PublicJwk[];
}

/** JWK Set of public keys only: no private (`d`, `p`, `q`…) or symmetric (`k`, `oct`) material, at most 10 keys. */
export const publicJwksSchema = z
  .object({
    keys: z
      .array(
        z
          .looseObject({ kty: z.string().min(1).max(10) })
          .refine(
            (k) => k.kty !== 'oct' && !('k' in k) && !('d' in k),
            'must be a public key (no "d", no symmetric "oct" keys)',
          ),
      )
      .min(1)
      .max(10),
  })
  .transform((v): PublicJwks => ({ keys: v.keys }));

const shortText = z.string().max(200);
const httpUrl = z
  .string()
  .max(2000)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without userinfo');

/**
 * RFC 7591 §2 client metadata as clients send it. Unknown fields are dropped
 * (§2: the server MUST ignore metadata it does not understand).
 */
export const clientMetadataInput = z.object({
  redirect_uris: z.array(z.string()).max(20, 'at most 20 redirect_uris').optional(),
  token_endpoint_auth_method: z.string().optional(),
  grant_types: z.array(z.string()).max(10).optional(),
  response_types: z.array(z.string()).max(10).optional(),
  application_type: z.enum(['web', 'native']).optional(),
  client_name: shortText.optional(),
  client_uri: httpUrl.optional(),
  logo_uri: httpUrl.optional(),
  tos_uri: httpUrl.optional(),
  policy_uri: httpUrl.optional(),
  scope: z.string().max(1000).optional(),
  contacts: z.array(z.string().max(320)).max(10).optional(),
  software_id: shortText.optional(),
  software_version: shortText.optional(),
  // Read only for private_key_jwt clients (below); ignored like unknown metadata otherwise.
  jwks: z.unknown().optional(),
  jwks_uri: z.unknown().optional(),
  dpop_bound_access_tokens: z.boolean().optional(),
});

/** Registered client metadata with every default filled in. */
export interface ClientMetadata {
  redirect_uris: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  grant_types: GrantType[];
  /** `["code"]` with the `authorization_code` grant, else empty. */
  response_types: Array<'code'>;
  application_type: 'web' | 'native';
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  /** Space-separated scopes, only those the server supports. */
  scope?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  /** Public keys of a `private_key_jwt` client (RFC 7591 §2), exclusive with `jwks_uri`. */
  jwks?: PublicJwks;
  /** Where a `private_key_jwt` client publishes its public keys (fetched through the SSRF-safe fetch). */
  jwks_uri?: string;
  /** RFC 9449 §5.2: every token request of this client must carry a DPoP proof. */
  dpop_bound_access_tokens?: boolean;
}

/** What {@link normalizeClientMetadata} needs to know about the server. */
export interface MetadataPolicy {
  /** Scopes the server supports; requested scopes outside it are dropped (RFC 7591 §2 lets the server replace values). */
  scopesSupported: readonly string[];
  /** Extra redirect-URI policy (the allow-list); throws `invalid_redirect_uri` to refuse. */
  checkRedirectAllowed?: (uri: string) => void;
  /** Default auth method when absent (RFC 7591: `client_secret_basic`; CIMD: `none`). */
  defaultAuthMethod?: TokenEndpointAuthMethod;
  /** Grant types the server serves (default: every supported one). */
  grantTypes?: readonly GrantType[];
  /** Auth methods allowed here (CIMD clients have no secret, so only `none`). */
  allowedAuthMethods?: readonly TokenEndpointAuthMethod[];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.join('.') : 'body';
  return `${path}: ${issue.message}`;
}

/**
 * Validates RFC 7591 client metadata and fills in defaults.
 *
 * @throws OAuthError `invalid_redirect_uri` or `invalid_client_metadata` with a description naming the field.
 */
export function normalizeClientMetadata(input: unknown, policy: MetadataPolicy): ClientMetadata {
  const parsed = clientMetadataInput.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    if (first.path[0] === 'redirect_uris') throw invalidRedirectUri(describeIssue(first));
    throw invalidClientMetadata(describeIssue(first));
  }
  const m = parsed.data;

  const grantTypes = m.grant_types ?? ['authorization_code'];
  for (const g of grantTypes) {
    if (!((policy.grantTypes ?? supportedGrantTypes) as readonly string[]).includes(g)) {
      throw invalidClientMetadata(`grant_types: unsupported grant type ${JSON.stringify(g.slice(0, 64))}`);
    }
  }
  const codeFlow = grantTypes.includes('authorization_code');
  if (!codeFlow && !grantTypes.includes('client_credentials') && !grantTypes.includes(JWT_BEARER_GRANT)) {
    throw invalidClientMetadata(
      'grant_types: must include authorization_code, client_credentials or the jwt-bearer grant',
    );
  }
  if (!codeFlow && grantTypes.includes('refresh_token')) {
    throw invalidClientMetadata('grant_types: refresh_token is only issued with authorization_code');
  }
  const responseTypes = m.response_types ?? (codeFlow ? ['code'] : []);
  if (codeFlow ? responseTypes.length !== 1 || responseTypes[0] !== 'code' : responseTypes.length !== 0) {
    throw invalidClientMetadata(
      codeFlow
        ? 'response_types: only ["code"] is supported'
        : 'response_types: must be empty without authorization_code',
    );
  }

  const allowed = policy.allowedAuthMethods ?? tokenEndpointAuthMethods;
  const authMethod = m.token_endpoint_auth_method ?? policy.defaultAuthMethod ?? 'client_secret_basic';
  if (!(allowed as readonly string[]).includes(authMethod)) {
    throw invalidClientMetadata(
      `token_endpoint_auth_method: ${JSON.stringify(authMethod.slice(0, 64))} is not supported; use one of ${allowed.join(', ')}`,
    );
  }

  if (authMethod === 'none' && grantTypes.includes('client_credentials')) {
    throw invalidClientMetadata(
      'grant_types: client_credentials needs a confidential client (token_endpoint_auth_method)',
    );
  }
  let keys: Pick<ClientMetadata, 'jwks' | 'jwks_uri'> = {};
  if (authMethod === 'private_key_jwt') keys = clientKeys(m.jwks, m.jwks_uri);

  const redirectUris = m.redirect_uris ?? [];
  if (redirectUris.length === 0 && codeFlow)
    throw invalidRedirectUri('redirect_uris: at least one redirect URI is required');
  const kinds = new Set<RedirectKind>();
  for (const uri of redirectUris) {
    kinds.add(checkRedirectUri(uri));
    policy.checkRedirectAllowed?.(uri);
  }
  if (new Set(redirectUris).size !== redirectUris.length) {
    throw invalidRedirectUri('redirect_uris: contains duplicates');
  }
  const applicationType = m.application_type ?? inferApplicationType(kinds);
  checkApplicationType(applicationType, kinds);

  const scopes = m.scope
    ?.split(' ')
    .filter((s) => s.length > 0 && policy.scopesSupported.includes(s))
    .filter((s, i, all) => all.indexOf(s) === i);

  const out: ClientMetadata = {
    redirect_uris: redirectUris,
    token_endpoint_auth_method: authMethod as TokenEndpointAuthMethod,
    grant_types: [...new Set(grantTypes)] as GrantType[],
    response_types: codeFlow ? ['code'] : [],
    application_type: applicationType,
  };
  if (m.client_name !== undefined) out.client_name = m.client_name;
  if (m.client_uri !== undefined) out.client_uri = m.client_uri;
  if (m.logo_uri !== undefined) out.logo_uri = m.logo_uri;
  if (m.tos_uri !== undefined) out.tos_uri = m.tos_uri;
  if (m.policy_uri !== undefined) out.policy_uri = m.policy_uri;
  if (scopes && scopes.length > 0) out.scope = scopes.join(' ');
  if (m.contacts !== undefined) out.contacts = m.contacts;
  if (m.software_id !== undefined) out.software_id = m.software_id;
  if (m.software_version !== undefined) out.software_version = m.software_version;
  if (m.dpop_bound_access_tokens === true) out.dpop_bound_access_tokens = true;
  return { ...out, ...keys };
}

/**
 * `application_type` when the client sends none. OIDC Registration defaults to
 * `web`; a client whose redirect URIs are all loopback or private-use is a
 * native app whatever it omitted (MCP 2026-07-28 notes that the `web` default
 * conflicts with native-style redirect URIs), so those register as `native`
 * rather than fail: clients that predate SEP-837 keep registering.
 */
function inferApplicationType(kinds: ReadonlySet<RedirectKind>): 'web' | 'native' {
  return kinds.size === 0 || kinds.has('web') ? 'web' : 'native';
}

/**
 * The redirect rules that follow from `application_type` (SEP-837, OIDC
 * Registration §2, RFC 8252):
 * - `web`: https only, so neither loopback `http` nor private-use schemes;
 * - `native`: loopback `http`, private-use schemes, or claimed `https` URIs (RFC 8252 §7.2).
 *
 * @throws OAuthError `invalid_redirect_uri` naming the rule.
 */
function checkApplicationType(type: 'web' | 'native', kinds: ReadonlySet<RedirectKind>): void {
  if (type !== 'web') return;
  if (kinds.has('private-use')) {
    throw invalidRedirectUri('redirect_uris: a web application cannot use private-use URI schemes');
  }
  if (kinds.has('loopback')) {
    throw invalidRedirectUri(
      'redirect_uris: a web application must use https; loopback http redirect URIs need application_type "native"',
    );
  }
}

/** A `private_key_jwt` client's keys: exactly one of `jwks` (public keys only) and `jwks_uri`. */
function clientKeys(jwks: unknown, jwksUri: unknown): Pick<ClientMetadata, 'jwks' | 'jwks_uri'> {
  if ((jwks === undefined) === (jwksUri === undefined)) {
    throw invalidClientMetadata(
      'token_endpoint_auth_method: private_key_jwt needs exactly one of jwks and jwks_uri',
    );
  }
  if (jwks !== undefined) {
    const parsed = publicJwksSchema.safeParse(jwks);
    if (!parsed.success) throw invalidClientMetadata(`jwks: ${describeIssue(parsed.error.issues[0]!)}`);
    return { jwks: parsed.data };
  }
  const parsed = httpUrl.safeParse(jwksUri);
  if (!parsed.success) throw invalidClientMetadata(`jwks_uri: ${describeIssue(parsed.error.issues[0]!)}`);
  const url = new URL(parsed.data);
  // Keys travel over TLS; plain http only to this machine (development, tests).
  if (url.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))
    throw invalidClientMetadata('jwks_uri: must use https (http only for localhost)');
  return { jwks_uri: parsed.data };
}

/** True when `err` is one of the registration errors {@link normalizeClientMetadata} throws. */
export const isMetadataError = (err: unknown): err is OAuthError =>
  err instanceof OAuthError &&
  (err.error === 'invalid_client_metadata' || err.error === 'invalid_redirect_uri');
