import { AuthError } from './auth.js';
import { BadRequestError } from './http/path.js';
import { JSONRPC_ERROR_CODES, JsonRpcHttpError } from '@mcp-gateway/internal/jsonrpc-error';
import { modernErrorCode } from '@mcp-gateway/internal/jsonrpc-error-codes';
import type { Logger } from './ops/logger.js';

/** JSON-RPC error codes the gateway answers with, from the repo's one table (shared with the bridge). */
export const JsonRpcCode = {
  /** The backend (upstream server or stdio child) could not be reached or failed, like a bridge child that exits. */
  BackendUnavailable: JSONRPC_ERROR_CODES.ServerError,
  /** The backend did not answer in time, like a bridge request past its deadline. */
  BackendTimeout: JSONRPC_ERROR_CODES.RequestTimeout,
  /** The store (embedded, file or Redis) is unreachable. */
  StoreUnavailable: JSONRPC_ERROR_CODES.StoreUnavailable,
  /** Parse error: the body is not JSON. */
  ParseError: JSONRPC_ERROR_CODES.ParseError,
  /** Invalid request. */
  InvalidRequest: JSONRPC_ERROR_CODES.InvalidRequest,
  /** Internal error. */
  InternalError: JSONRPC_ERROR_CODES.InternalError,
  /** 2026-07-28 (SEP-2243): an `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` header missing or unlike the body. */
  HeaderMismatch: JSONRPC_ERROR_CODES.HeaderMismatch,
  /** A per-tool policy refused a `tools/call` (`data`: `{ tool, reason }`). */
  PolicyDenied: JSONRPC_ERROR_CODES.PolicyDenied,
  /** {@link PolicyDenied} as a 2026-07-28 caller gets it: outside the JSON-RPC reserved range, as that revision asks. */
  PolicyDeniedModern: JSONRPC_ERROR_CODES.PolicyDeniedModern,
  /** 2026-07-28: serving needs a client capability the request did not declare (`data.requiredCapabilities`). */
  MissingRequiredClientCapability: JSONRPC_ERROR_CODES.MissingRequiredClientCapability,
  /** The user must open a URL first (`data.elicitations`), e.g. to connect an upstream account (2025 sessions only). */
  UrlElicitationRequired: JSONRPC_ERROR_CODES.UrlElicitationRequired,
} as const;

/**
 * An error a client receives as a JSON-RPC error object with an HTTP status
 * (MCP endpoints), e.g. `502 {"jsonrpc":"2.0","id":null,"error":{"code":-32000,...}}`: the repo's
 * one JSON-RPC-over-HTTP error type (`toResponse(id)` answers request `id`), named for the gateway.
 */
export class GatewayError extends JsonRpcHttpError {
  override readonly name = 'GatewayError';
  constructor(
    status: number,
    code: number,
    message: string,
    headers: Record<string, string> = {},
    /** `error.data` of the JSON-RPC body, when the code defines one (e.g. `-32022`'s `supported`). */
    data?: unknown,
  ) {
    super(status, code, message, { headers, data });
  }
}

/**
 * The gateway's own refusal (thrown on the way to an answer: a service's
 * backend, a federated endpoint) as a 2026-07-28 caller gets it: a legacy code (-32000…-32019, which 2026-07-28
 * implementations SHOULD NOT use) becomes `-32603` for 429 and 5xx and
 * `-32600` for any other status, as the bridge answers its own
 * ({@link modernErrorCode}). Status, headers, message and data stay.
 */
export function modernRefusal(err: GatewayError): GatewayError {
  const code = modernErrorCode(err.code, err.status);
  return code === err.code ? err : new GatewayError(err.status, code, err.message, err.headers, err.data);
}

/** A plain JSON error for the gateway's own (non-MCP) endpoints: `{error, error_description}`. */
export function jsonError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
) {
  return Response.json(
    { error, error_description: description },
    { status, headers: { 'cache-control': 'no-store', ...headers } },
  );
}

/**
 * The one place an error no route answered becomes a response: a malformed
 * request (400), a token problem ({@link AuthError}), a {@link GatewayError}
 * as its JSON-RPC body (for a 2026-07-28 request, `modern`, without the
 * legacy codes: {@link modernRefusal}), anything else 500 (logged with its
 * stack, never sent).
 */
export function errorResponse(err: unknown, log: Logger, modern = false): Response {
  // URIError: a decode that bypassed decodePathSegment.
  if (err instanceof BadRequestError) return jsonError(400, 'invalid_request', err.message);
  if (err instanceof URIError) return jsonError(400, 'invalid_request', 'malformed request');
  if (err instanceof AuthError) return jsonError(err.status, err.error ?? 'invalid_request', err.description);
  if (err instanceof GatewayError) return (modern ? modernRefusal(err) : err).toResponse();
  log.error('request failed', { err: (err as Error).message, stack: (err as Error).stack });
  return jsonError(500, 'server_error', 'internal error');
}
