// The one table of JSON-RPC error codes that the MCP HTTP edges answer with (gateway-kit, the bridge,
// fetch-server), inlined into each package at build time. Each package names its codes after these
// entries (its public `JsonRpcCode`).

/**
 * JSON-RPC error codes with one meaning each, following JSON-RPC 2.0 (§5.1) and the MCP SDK's
 * `ErrorCode` (`ConnectionClosed` -32000, `RequestTimeout` -32001).
 */
export const JSONRPC_ERROR_CODES = {
  /** The body is not JSON. */
  ParseError: -32700,
  /** Not a valid JSON-RPC request. */
  InvalidRequest: -32600,
  /** `params` that are malformed where the server can tell. */
  InvalidParams: -32602,
  /** A failure inside the server. */
  InternalError: -32603,
  /** Unknown method, or one the 2026-07-28 wire removed (`initialize`, `ping`, …); HTTP 404 there. */
  MethodNotFound: -32601,
  /** 2026-07-28 (SEP-2243): an `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` header missing or unlike the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: serving needs a client capability the request's `_meta` did not declare. */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the request's protocol version is not one the server serves (`data.supported`). */
  UnsupportedProtocolVersion: -32022,
  /**
   * MCP 2025-11-25 URL-mode elicitation (`URLElicitationRequiredError`): the user must open a URL
   * (`data.elicitations`) before the request can be served, e.g. to connect an upstream account.
   */
  UrlElicitationRequired: -32042,
  /**
   * The transport refused the request or the connection behind it failed: the Streamable HTTP
   * refusals (missing session header, Host/Origin, 405/406/413/415/429/503) and a backend or child
   * that cannot be reached, fails or exits (the SDK's `ConnectionClosed`).
   */
  ServerError: -32000,
  /** A request past its deadline: the backend or child did not answer in time (the SDK's `RequestTimeout`). */
  RequestTimeout: -32001,
  /**
   * HTTP 404 for an unknown or ended `Mcp-Session-Id`. The same number as {@link RequestTimeout},
   * as the MCP SDK's Streamable HTTP server answers it; only ever sent with status 404.
   */
  SessionNotFound: -32001,
  /** The store behind the server (embedded, file or Redis) is unreachable. */
  StoreUnavailable: -32003,
  /**
   * streamablehttp-client's stdio side only: authorization with the upstream server failed, so the
   * request was not forwarded. The same number as {@link RequestTimeout}; never sent over HTTP.
   */
  Unauthorized: -32001,
  /**
   * A gateway's per-tool policy refused a `tools/call` (the tool is hidden from or denied to the
   * caller); `data` is `{ tool, reason }`. Sent with HTTP 200, like any JSON-RPC error of a handled request.
   */
  PolicyDenied: -32010,
  /**
   * {@link PolicyDenied} as a 2026-07-28 caller gets it (same message, `data` and HTTP 200). That
   * revision keeps -32000…-32019 for legacy codes that new implementations SHOULD NOT use and
   * -32020…-32099 for its own, and says a code for a purpose it does not define SHOULD lie outside
   * the JSON-RPC reserved range, -32768…-32000 (basic/index, "Error Codes").
   */
  PolicyDeniedModern: -31010,
} as const;

/**
 * The legacy sub-range of the implementation-defined server-error codes: MCP 2026-07-28
 * implementations SHOULD NOT use -32000 to -32019 (basic/index, "Error Codes"), which earlier
 * revisions' servers (and the SDK's `ConnectionClosed`/`RequestTimeout`) used freely.
 */
export const LEGACY_ERROR_CODES = { from: -32019, to: -32000 } as const;

/**
 * The code a 2026-07-28 client gets for a refusal of the server's own with `code` and HTTP
 * `status`: a legacy code ({@link LEGACY_ERROR_CODES}) becomes a standard JSON-RPC one, `-32603`
 * (Internal error) for 429 and 5xx (the server cannot serve the request now), `-32600` (Invalid
 * Request) for any other status (the request cannot be accepted as sent); any other code is kept.
 * A refusal answered with HTTP 200 whose cause is a failure behind the server (a backend that
 * cannot be reached, fails or misses its deadline) is passed with the status that failure stands
 * for (502, 504). A per-tool policy's refusal ({@link JSONRPC_ERROR_CODES.PolicyDenied}) becomes
 * its 2026 counterpart, `PolicyDeniedModern`. Only for the server's own refusals: a backend's own
 * error is the backend's.
 */
export function modernErrorCode(code: number, status: number): number {
  if (code === JSONRPC_ERROR_CODES.PolicyDenied) return JSONRPC_ERROR_CODES.PolicyDeniedModern;
  if (code < LEGACY_ERROR_CODES.from || code > LEGACY_ERROR_CODES.to) return code;
  return status === 429 || status >= 500
    ? JSONRPC_ERROR_CODES.InternalError
    : JSONRPC_ERROR_CODES.InvalidRequest;
}

/**
 * The HTTP status of a 2026-07-28 JSON-RPC error answer with `code`, whoever wrote the error (the
 * server, or a backend whose answer it passes on): `404` for `-32601` (Method not found;
 * transports/streamable-http), `400` for `-32020` (HeaderMismatch), `-32021`
 * (MissingRequiredClientCapability; basic/index) and `-32022` (UnsupportedProtocolVersion;
 * basic/versioning), `200` for any other code. A `-32602` refusal of a malformed envelope is also
 * `400`, but the code alone does not say so (a missing resource is `-32602` too, answered with `200`):
 * the envelope check sets that status itself.
 */
export function modernErrorStatus(code: number): number {
  switch (code) {
    case JSONRPC_ERROR_CODES.MethodNotFound:
      return 404;
    case JSONRPC_ERROR_CODES.HeaderMismatch:
    case JSONRPC_ERROR_CODES.MissingRequiredClientCapability:
    case JSONRPC_ERROR_CODES.UnsupportedProtocolVersion:
      return 400;
    default:
      return 200;
  }
}
