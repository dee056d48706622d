export { createStdioBridge, type StdioBridge, type BridgeStats } from './bridge.js';
export { toNodeListener, serveNode, type ServedBridge, type FetchHandler } from './node.js';
export type { BridgeCaller, RequestView, ResponseObserver } from './exchange.js';
/** The final status of an answer given with `RequestView.lateAnswer` (at once for any other response). */
export { whenSettled } from '@mcp-gateway/internal/lazy-response';
/** The `allowedHosts` comparison (DNS-rebinding protection), for servers that want the same semantics. */
export { hostnameOf, isLoopbackHost } from './http-handler.js';
export {
  DEFAULTS,
  type StdioBridgeOptions,
  type Clock,
  type IdentityResolver,
  type RequestHeaders,
} from './options.js';
export { createJsonLogger, LOG_LEVELS, type Logger, type LogLevel, type LogFields } from './log.js';
export { BridgeHttpError, JsonRpcCode } from './errors.js';
/** The bridge's checks of a POST body's JSON-RPC messages and batches, for an intermediary that serves them. */
export { MAX_BATCH_MESSAGES, classifyMessages, modernBatchRefusal } from './batch.js';
export type { Classified, JsonRpcId } from './jsonrpc.js';
export {
  SUPPORTED_PROTOCOL_VERSIONS,
  DEFAULT_PROTOCOL_VERSION,
  isSupportedProtocolVersion,
  MODERN_PROTOCOL_VERSIONS,
  requestEra,
  type ProtocolEra,
} from './protocol-version.js';
/** The 2026-07-28 envelope and mirrored-header (SEP-2243) check, for an intermediary that forwards modern requests. */
export { checkEnvelope, decodeHeaderValue, type HeaderReader } from './modern/envelope.js';
export { RELAYS_TO_2025_META } from './modern/wire.js';
/**
 * MRTR `requestState` signing (HMAC-SHA256, bound to a user, a request and an expiry) and the params
 * digest it binds to, for an intermediary that answers `input_required` itself.
 */
export { RequestStateCodec, digestOf, type RequestStatePayload } from './modern/request-state.js';
export type { ChildLimits } from './child-process.js';
