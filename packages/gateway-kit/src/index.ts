export * from './config/index.js';
export * from './store/index.js';
export { createGateway, auditToEvent, type Gateway, type CreateGatewayOptions } from './gateway/create.js';
export { createGatewayHandler, type GatewayHandler } from './gateway/handler.js';
export type { GatewayHandlerDeps } from './gateway/routes/context.js';
export { MAX_MCP_BODY_BYTES } from './gateway/request-body.js';
export { resourcesOf } from './gateway/resources.js';
export { Authorization, ACCOUNT_CLIENT_ID, CLI_CLIENT_ID } from './gateway/authorization.js';
export { issueToken, type TokenResponse } from './gateway/cli-token.js';
export {
  LocalUsers,
  liveLocalIdentityProvider,
  USER_INDEX_KEY,
  userKey,
  USERS_KEY,
  type LocalUsersOptions,
} from './gateway/users.js';
export { createStore, embeddedStoreFile, storeFile, storeReachable } from './gateway/stores.js';
export { ADMIN_SCOPE, adminResource, accountResource } from './gateway/resources.js';
export {
  AuthError,
  bearerToken,
  bearerFromHeader,
  challenge,
  type AuthErrorCode,
  type AuthErrorOptions,
  type DpopChallengeInfo,
  type GatewayAuth,
  type PresentationContext,
  type ResourceDescriptor,
} from './auth.js';
export { GatewayError, JsonRpcCode, jsonError } from './errors.js';
export type { Identity } from './identity.js';
export * from './policy/index.js';
export {
  ServiceRegistry,
  ServiceRegistryError,
  RUNTIME_SERVICES_KEY,
  type ServiceEntry,
  type BackendFactory,
  type KeyValue,
} from './services/registry.js';
export type { ServiceBackend, BackendCall } from './services/backend.js';
export { stdioBackend, childEnv, BASE_ENV, type StdioBackendOptions } from './services/stdio.js';
export {
  sharedRequestStateSecret,
  requestStateKeyFor,
  REQUEST_STATE_SECRET_KEY,
} from './services/request-state-key.js';
export { fetchBackend } from './services/fetch.js';
export { httpBackend } from './services/http.js';
export { RuntimeHttpGuard, runtimeHttpRule } from './services/runtime-http.js';
export {
  systemResolver,
  guardedFetch,
  AddressRefusedError,
  type Resolver,
  type ResolvedAddress,
  type AddressRule,
  type UpstreamFetch,
} from './http/address-guard.js';
export { HttpServiceProxy } from './proxy/http-proxy.js';
export { createNodeServer, type NodeServer, type FetchHandler, type RequestInfo } from './http/node.js';
export {
  WebhookDispatcher,
  signPayload,
  sanitize,
  type AuditEvent,
  type WebhookPayload,
} from './ops/webhooks.js';
export { GatewayMetrics } from './ops/metrics.js';
export {
  createLogger,
  createStderrLogger,
  fromPino,
  REDACT_PATHS,
  type Logger,
  type LogFields,
} from './ops/logger.js';
export { openApiDocument, type OpenApiOptions } from './ops/openapi.js';
export { main as runCli, CliError } from './cli/main.js';
export { VERSION } from './version.js';
