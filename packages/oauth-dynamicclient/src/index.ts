/**
 * `@mcp-gateway/oauth-dynamicclient`: an OAuth 2.1 authorization server core
 * for MCP that runs on any Fetch-API runtime.
 */
export { createAuthorizationServer, corePlugin, type AuthorizationServer } from './server.js';
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
export { withCors, preflight, type CorsOptions } from './http/cors.js';
export { FixedWindowLimiter, rateLimitSource, type RateLimit, type RequestInfo } from './http/rate-limit.js';

// Storage
export {
  keyvStore,
  MemoryStore,
  RedisStore,
  type Store,
  type KeyvStoreOptions,
  type RedisStoreOptions,
} from './store/index.js';

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
  type ClientMetadata,
  type GrantType,
  type TokenEndpointAuthMethod,
} from './clients/metadata.js';
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
