/**
 * The options of an OAuth session, and the checks that tie them together
 * (which grant, which client it needs): done once, when the session is made.
 */
import { UsageError } from '../errors.js';
import type { FetchLike } from '../http/fetch.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { TokenStore } from '../store/types.js';
import type { IdentityProviderOptions } from './id-jag.js';
import type { PrivateKeyMaterial } from './private-key-jwt.js';
import type { StaticClient } from './registration.js';
import type { WorkloadTokenSource } from './workload.js';

/**
 * How a session gets tokens: `authorization_code` (browser sign-in with PKCE),
 * `client_credentials` (OAuth 2.1 §4.2, MCP SEP-1046: the client acts for
 * itself) or `id_jag` (MCP SEP-990: an ID-JAG from the enterprise IdP by RFC
 * 8693 token exchange, then the RFC 7523 JWT bearer grant) or `jwt_bearer`
 * (MCP SEP-1933 workload identity: the platform's JWT in the RFC 7523 grant).
 * The last three need no browser; the first two of them a pre-registered client.
 */
export type OAuthGrant = 'authorization_code' | 'client_credentials' | 'id_jag' | 'jwt_bearer';

/** Options of {@link createOAuthSession}. Every field but `serverUrl` has a default. */
export interface OAuthSessionOptions {
  /** The MCP endpoint. */
  serverUrl: string | URL;
  /** Where credentials live. Default: `FileTokenStore` in the user's config folder. */
  store?: TokenStore;
  /** Scopes to ask for, overriding the challenge's and the metadata's. */
  scope?: string;
  /** A pre-registered client: used instead of any registration. */
  staticClient?: StaticClient;
  /** How tokens are obtained. Default `authorization_code`. */
  grant?: OAuthGrant;
  /**
   * The pre-registered client's private key: it then authenticates with
   * `private_key_jwt` (RFC 7523 §2.2) at the token endpoint. Never stored.
   */
  privateKey?: PrivateKeyMaterial;
  /** The enterprise identity provider, for the `id_jag` grant. */
  identityProvider?: IdentityProviderOptions;
  /**
   * The workload's JWT for the `jwt_bearer` grant (RFC 7523): a file, read
   * again on every token request, or a function. Setting it selects that grant.
   */
  workloadToken?: WorkloadTokenSource;
  /**
   * DPoP (RFC 9449): `true` binds tokens to a key of this client always,
   * `false` never; default: when the authorization server advertises
   * `dpop_signing_alg_values_supported`. The key (ES256) is stored with the
   * credentials; see `oauth/dpop.ts`.
   */
  dpop?: boolean;
  /** Client ID Metadata Document URL, used when the AS advertises support. */
  clientMetadataUrl?: string;
  /** `client_name` for dynamic registration. Default `mcp-streamablehttp-client`. */
  clientName?: string;
  /** Fixed loopback callback port. Default: the registered one, else any free port; a busy default port falls back to a free one. */
  callbackPort?: number;
  /** Open the system browser on login. Default true. */
  openBrowser?: boolean;
  /** Called with the authorization URL on every login. Default: print it to stderr. */
  onAuthorizationUrl?: (url: string) => void | Promise<void>;
  /** How long to wait for the browser to come back. Default 5 minutes. */
  authTimeoutMs?: number;
  /** May the session start a login by itself (on 401 with no usable token)? Default true. */
  interactive?: boolean;
  /** Refresh this long before expiry. Default 60 s. */
  refreshSkewMs?: number;
  /**
   * Which `http:` URLs OAuth requests may use. Default: loopback hosts only. A URL opened in the
   * browser is `https:`, or `http:` on a loopback host, whatever this admits.
   */
  allowInsecure?: (url: string) => boolean;
  fetch?: FetchLike;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The grant the options select (`jwt_bearer` when a workload token is given),
 * and the options with a private key's client set to `private_key_jwt`.
 * @throws UsageError when the grant lacks what it needs (a client, a secret or key, the IdP).
 */
export function checkSessionOptions(opts: OAuthSessionOptions): {
  opts: OAuthSessionOptions;
  grant: OAuthGrant;
} {
  const grant = opts.grant ?? (opts.workloadToken ? 'jwt_bearer' : 'authorization_code');
  if (opts.privateKey && opts.staticClient && !opts.staticClient.token_endpoint_auth_method) {
    opts = {
      ...opts,
      staticClient: { ...opts.staticClient, token_endpoint_auth_method: 'private_key_jwt' },
    };
  }
  if (opts.privateKey && !opts.staticClient) throw new UsageError('a private key needs a client id');
  if (grant === 'jwt_bearer' && !opts.workloadToken)
    throw new UsageError('the jwt_bearer grant needs a workload token');
  if (grant !== 'authorization_code' && grant !== 'jwt_bearer') {
    const c = opts.staticClient;
    if (!c) throw new UsageError(`the ${grant} grant needs a pre-registered client (client id)`);
    if (grant === 'client_credentials' && !c.client_secret && !opts.privateKey)
      throw new UsageError('the client_credentials grant needs a client secret or a private key');
    if (grant === 'id_jag' && !opts.identityProvider)
      throw new UsageError('the id_jag grant needs the identity provider settings');
  }
  return { opts, grant };
}
