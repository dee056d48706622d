/**
 * `@mcp-gateway/oauth-dynamicclient`: an OAuth 2.1 authorization server core
 * for MCP that runs on any Fetch-API runtime.
 */
export {
  createAuthorizationServer,
  corePlugin,
  type AuthorizationServer,
  type ResourcesApi,
  type ServerHealth,
  type CloseOptions,
} from './server.js';
export type { ResourceInput } from './resources.js';
export {
  parseOptions,
  defaults,
  OptionsError,
  type AuthorizationServerOptions,
  type ResolvedOptions,
} from './options.js';
export type {
  ServerContext,
  ServerPlugin,
  Route,
  RouteHandler,
  RouteRequest,
  HttpMethod,
} from './context.js';
export { Router } from './router.js';

// HTTP building blocks
export {
  OAuthError,
  errorResponse,
  invalidRequest,
  invalidClient,
  invalidGrant,
  unauthorizedClient,
  unsupportedGrantType,
  unsupportedResponseType,
  invalidScope,
  invalidTarget,
  invalidRedirectUri,
  invalidClientMetadata,
  invalidToken,
  insufficientScope,
  accessDenied,
  temporarilyUnavailable,
  serverError,
  rateLimited,
  storageUnavailable,
  unavailableError,
  stderrLogger,
  silentLogger,
  type OAuthErrorCode,
  type OAuthErrorOptions,
  type Logger,
} from './http/errors.js';
export {
  readBody,
  readJsonObject,
  readForm,
  paramsToRecord,
  bearerToken,
  basicCredentials,
  mediaType,
} from './http/body.js';
export { noStoreJson, publicJson, empty } from './http/responses.js';
export { withCors, preflight, corsHeaders, type CorsOptions } from './http/cors.js';
export { FixedWindowLimiter, rateLimitSource, type RateLimit, type RequestInfo } from './http/rate-limit.js';

// Storage
export {
  keyvStore,
  MemoryStore,
  StoreUnavailableError,
  isStoreUnavailable,
  storeUnavailable,
  type Store,
  type KeyvStoreOptions,
} from './store/index.js';
// RedisStore: '@mcp-gateway/oauth-dynamicclient/redis' (src/redis.ts), so that only its users load @keyv/redis.

// Clients
export type { Client, ClientKind, StoredClient, Registration } from './clients/records.js';
export { hasGrant, isConfidential } from './clients/records.js';
export {
  ClientRegistry,
  type ClientDeletedHook,
  type GrantPolicy,
  type StaticClientConfig,
} from './clients/registry.js';
export {
  normalizeClientMetadata,
  JWT_BEARER_GRANT,
  type ClientMetadata,
  type GrantType,
  type PublicJwks,
  type TokenEndpointAuthMethod,
} from './clients/metadata.js';
// Machine clients: client_credentials, private_key_jwt, jwt-bearer (ID-JAG)
export { authenticateClient, JWT_CLIENT_ASSERTION } from './clients/authentication.js';
export {
  machineDefaults,
  trustedIdpSchema,
  assertionAlgorithms,
  enabledGrantTypes,
  type TrustedIdp,
} from './grants/options.js';
export { machineSubject } from './grants/client-credentials.js';
export { idpSubject, ID_JAG_TYP } from './grants/jwt-bearer.js';
// Workload identity federation (RFC 7523 §2.1 with workload JWTs, MCP SEP-1933)
export {
  workloadIssuerSchema,
  workloadSubjectSchema,
  globMatches,
  type WorkloadIssuer,
  type WorkloadSubject,
} from './grants/workload-options.js';
export { workloadSubject } from './grants/workload.js';
export { checkRedirectUri, isLoopbackRedirect, type RedirectKind } from './clients/redirect-uri.js';
export {
  classifyAddress,
  isAddressAllowed,
  type AddressClass,
  type AddressPolicy,
} from './clients/address-classifier.js';
export { type DnsResolver } from './clients/safe-fetch.js';

// Endpoint documents
export { authorizationServerMetadata, type AuthorizationServerMetadata } from './endpoints/metadata.js';
export {
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  type ProtectedResourceMetadata,
  type ResourceConfig,
} from './endpoints/protected-resource.js';

// Audit, time, ids, secrets
export {
  AuditEmitter,
  type AuditEvent,
  type AuditEventMap,
  type AuditRecord,
  type AuditListener,
  type ClientDeletionReason,
} from './audit/events.js';
export { systemClock, ManualClock, epochSeconds, type Clock } from './clock.js';
export { cryptoIds, base64url, type IdGenerator } from './ids.js';
export { hashSecret, verifySecret } from './secrets.js';

// Runtime adapters
export {
  toNodeListener,
  toWebRequest,
  writeWebResponse,
  type NodeListenerOptions,
  type FetchHandler,
} from './adapters/node.js';

// Login and token flows (identity providers, consent, tokens, ForwardAuth)
export { flowsPlugin, flowsApi, type FlowsApi } from './endpoints/flows-plugin.js';
export { type OperatorGrantInput, type OperatorTokenResponse } from './grants/operator.js';
export { forwardAuthNodeListener, type ForwardAuthDecision } from './endpoints/verify.js';
export {
  flowDefaults,
  identityProviderConfigSchema,
  type IdentityProviderConfig,
} from './endpoints/flow-options.js';
export { createIdentityProvider } from './endpoints/flow-services.js';
export { githubIdentityProvider, type GitHubIdentityProviderOptions } from './idp/github.js';
export { oidcIdentityProvider, oidcSubject, type OidcIdentityProviderOptions } from './idp/oidc.js';
export { localIdentityProvider, type LocalUser, type LocalIdentityProviderOptions } from './idp/local.js';
export {
  hashPassword,
  verifyPassword,
  verifyAndUpgradePassword,
  passwordNeedsRehash,
  DEFAULT_PASSWORD_COST,
  type PasswordCost,
} from './idp/password.js';
export {
  LoginThrottle,
  defaultLoginThrottle,
  type LoginThrottleSettings,
  type AccountKind,
  type Admission,
} from './idp/login-throttle.js';
export {
  LoginError,
  type IdentityProvider,
  type IdpContext,
  type ProviderRoute,
  type UpstreamIdentity,
  type LoginFailure,
} from './idp/types.js';
export { html, raw, escapeHtml, stripInvisible, type SafeHtml } from './pages/html.js';
export { htmlPage, type HtmlPageOptions } from './pages/page.js';
export type {
  PageModel,
  PageOptions,
  ErrorPageModel,
  ConsentPageModel,
  ConsentBeforeSignInPageModel,
  LoginPageModel,
  NoticePageModel,
} from './pages/layout.js';

// Tokens and resource servers
export { InvalidTokenError, InsufficientScopeError, type InvalidTokenReason } from './tokens/errors.js';
export type { AccessTokenClaims } from './tokens/access-token.js';
export type { VerifiedAccessToken, VerifyAccessTokenOptions } from './tokens/verifier.js';
export { MAX_GROUPS, MAX_GROUP_LENGTH } from './tokens/groups.js';
export type { Grant } from './tokens/grants.js';
export type { JsonWebKeySet, SigningAlgorithm } from './tokens/keys.js';
export {
  requireBearer,
  withBearer,
  readBearer,
  bearerFromHeader,
  bearerHeaderGuard,
  verifyFunction,
  type AccessTokenSource,
  type BearerCheck,
  type RequireBearerOptions,
  type VerifyAccessToken,
} from './resource/require-bearer.js';
export { createAccessTokenVerifier, type RemoteVerifierOptions } from './resource/remote-verifier.js';
export {
  bearerChallenge,
  bearerErrorResponse,
  dpopChallenge,
  resourceChallenge,
  schemeChallenge,
  type ChallengeInput,
  type ChallengeScheme,
  type ResourceSchemes,
} from './resource/challenge.js';
export { canonicalResource } from './resource/canonical.js';
export {
  mcpTokenVerifier,
  toMcpAuthInfo,
  McpOAuthError,
  type McpAuthInfo,
  type McpTokenVerifier,
  type McpTokenVerifierOptions,
  type McpSdkErrorClasses,
} from './resource/mcp-verifier.js';
export { bearerAuthCheck, type BearerAuthOptions, type BearerAuthResult } from './resource/bearer-auth.js';
export { protectedResourceDocument, type ProtectedResourceOptions } from './resource/resource-metadata.js';
// DPoP (RFC 9449)
export { dpopDefaults } from './dpop/options.js';
export {
  DpopProofVerifier,
  dpopAlgorithms,
  normalizeHtu,
  accessTokenHash,
  type DpopProofVerifierOptions,
  type DpopRequest,
  type VerifiedDpopProof,
} from './dpop/proof.js';
export { DpopNonces, type DpopNonceOptions } from './dpop/nonce.js';
export { MemoryReplayCache, type ReplayCache } from './dpop/replay.js';
export { DpopError, type DpopErrorCode } from './dpop/errors.js';
export {
  parseAuthorization,
  challengeScheme,
  provenKey,
  verifyPresentation,
  type PresentedToken,
  type ProofContext,
} from './resource/presentation.js';
export { checkDpopBinding } from './tokens/verifier.js';
export {
  createIntrospectionVerifier,
  type IntrospectionVerifierOptions,
} from './resource/introspection-verifier.js';
