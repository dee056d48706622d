export { createFetchServer, type FetchServerHandler } from './server.js';
export {
  FETCH_SERVER_DEFAULTS,
  validateOptions,
  type FetchObserver,
  type FetchServerOptions,
} from './options.js';
export { toNodeListener, type WebHandler } from './adapters/node.js';
export { createFetchCore, type FetchCore } from './core.js';
export { FetchLimiter } from './limits.js';
export type { FetchRequestInfo } from './caller.js';
export { createMcpServer } from './mcp.js';
export { createModernMcpServer, createModernHandler, type ModernHandlerOptions } from './protocol/modern.js';
export {
  protocolEra,
  MODERN_PROTOCOL_VERSIONS,
  LEGACY_PROTOCOL_VERSIONS,
  SERVED_PROTOCOL_VERSIONS,
  type ProtocolEra,
} from './protocol/versions.js';
export {
  runFetchTool,
  fetchPage,
  paginate,
  fetchToolInput,
  MAX_LENGTH_LIMIT,
  FETCH_TOOL_DESCRIPTION,
  type FetchToolArgs,
  type FetchedPage,
} from './tool.js';
export { FetchError, HttpEdgeError, type FetchErrorCode } from './errors.js';
export {
  classifyAddress,
  describeRange,
  type AddressClassification,
  type AddressRange,
} from '@mcp-gateway/internal/address-class';
export { AllowList } from './ssrf/allow-list.js';
export { systemResolver, type Resolver, type ResolvedAddress } from './ssrf/resolver.js';
export { resolvePinned, type PinnedTarget } from './ssrf/pin.js';
export { parseFetchUrl } from './ssrf/url-policy.js';
export { createConnector, type Connector, type ConnectOptions } from './fetcher/connect.js';
export {
  createSafeFetcher,
  type SafeFetcher,
  type SafeFetcherConfig,
  type SafeFetchOptions,
  type SafeResponse,
} from './fetcher/safe-fetch.js';
export { RobotsPolicy, productToken, type RobotsPolicyOptions } from './robots.js';
export { htmlToMarkdown, type Simplified } from './content/html-to-markdown.js';
export {
  renderContent,
  renderContentWith,
  isTextual,
  type HtmlConverter,
  type RenderedContent,
} from './content/render.js';
export { ConversionPool, type ConversionPoolOptions } from './content/convert-pool.js';
export {
  decodeBody,
  parseContentType,
  sniffMetaCharset,
  type Decoded,
  type MediaType,
} from './content/charset.js';
export { jsonLogger, silentLogger, type Logger, type LogFields } from './log.js';
export { VERSION, DEFAULT_USER_AGENT } from './version.js';
