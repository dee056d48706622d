export { connect, type ConnectOptions } from './connect.js';
export { openConnection, type McpConnection, type OpenConnectionOptions } from './connection.js';
export {
  ModernClient,
  type ModernClientOptions,
  type DiscoverResult,
  type InputRequest,
  type InputFulfiller,
  type Implementation,
} from './protocol/client.js';
export { probeEra, EraCache, defaultEraCache, type EraDecision } from './protocol/era.js';
export {
  MODERN_VERSION,
  LEGACY_VERSION,
  PROTOCOL_PREFERENCES,
  type ProtocolPreference,
  type Era,
} from './protocol/versions.js';
export { toolHeaders, encodeHeaderValue, type ToolHeaderCheck } from './protocol/tool-headers.js';
export {
  createOAuthSession,
  OAuthSession,
  type OAuthSessionOptions,
  type OAuthGrant,
  type AuthStatus,
} from './oauth/session.js';
export { parsePrivateKey, type PrivateKeyMaterial } from './oauth/private-key-jwt.js';
export { requestIdJag, type IdentityProviderOptions, type IdJagRequest } from './oauth/id-jag.js';
export type { WorkloadTokenSource } from './oauth/workload.js';
export { discover, probe, type Discovery, type ProbeResult } from './oauth/discovery.js';
export {
  discoverProtectedResource,
  protectedResourceMetadataUrls,
  type ProtectedResourceMetadata,
} from './oauth/protected-resource.js';
export {
  discoverAuthorizationServer,
  authorizationServerMetadataUrls,
  type AuthorizationServerMetadata,
} from './oauth/authorization-server.js';
export { parseBearerChallenge, type BearerChallenge } from './oauth/challenge.js';
export type { StaticClient } from './oauth/registration.js';
export { createAuthFetch, type AuthFetchOptions } from './http/auth-fetch.js';
export type { FetchLike } from './http/fetch.js';
export {
  withRequestDeadline,
  DeadlineError,
  REQUEST_DEADLINE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
} from './http/deadline.js';
export { StdioBridge, type BridgeOptions } from './bridge/bridge.js';
export { doctor, type DoctorReport, type DoctorCheck, type CheckStatus } from './doctor.js';
export { FileTokenStore, defaultStoreHome, HOME_ENV } from './store/file.js';
export { MemoryTokenStore } from './store/memory.js';
export {
  STORE_FORMAT_VERSION,
  type TokenStore,
  type StoredCredentials,
  type StoredClient,
  type StoredTokens,
  type StoredDPoPKey,
} from './store/types.js';
export {
  ClientError,
  AuthError,
  DiscoveryError,
  UnsafeUrlError,
  ServerError,
  NetworkError,
  UsageError,
  EXIT_CODES,
  JSONRPC_ERRORS,
  type FailureKind,
} from './errors.js';
export { systemClock, type Clock } from './clock.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
