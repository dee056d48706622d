import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { AuthError, JSONRPC_ERRORS, type ClientError } from '../errors.js';
import { toClientError } from '../http/mcp-errors.js';
import { localError } from '../protocol/local-errors.js';
import { META_KEYS } from '../protocol/versions.js';

/** True for the params of a 2026-07-28 host's request: it sends its own `_meta` envelope. */
export function fromModernHost(params: unknown): boolean {
  const meta = (params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  return meta?.[META_KEYS.protocolVersion] !== undefined;
}

/** The JSON-RPC error the host gets for a request the bridge could not get answered upstream. */
export interface UpstreamErrorAnswer {
  code: number;
  message: string;
  /** `{ kind, code, status }`; for a 2026-07-28 host, `{ source, reason, kind, status }`. */
  data: Record<string, unknown>;
}

/**
 * `err` (what the fetch, the MCP SDK or the 2026 client threw) as the error
 * answer to the host: `-32001` for authorization failures, `-32000` for the
 * rest, with `data: { kind, code, status }`; and the {@link ClientError} it
 * was read as (for the log).
 *
 * For a 2026-07-28 host (`modernHost`), which reads -32000…-32019 as the
 * server's, it is a local error instead (MCP 2026-07-28 basic/index "Error
 * Codes"): `-32602` for a usage error, `-32603` for the rest (a timeout, a
 * network or authorization failure, a server answer the client cannot use),
 * with `data: { source: "mcp-streamablehttp-client", reason: code, kind, status }`.
 */
export function upstreamErrorOf(
  err: unknown,
  url: string,
  modernHost = false,
): { error: UpstreamErrorAnswer; cause: ClientError } {
  const e = toClientError(err, url);
  const status = (e as { status?: number }).status;
  if (modernHost) {
    const code = e.kind === 'usage' ? JSONRPC_ERROR_CODES.InvalidParams : JSONRPC_ERROR_CODES.InternalError;
    const { data } = localError(code, e.message, e.code, { kind: e.kind, ...(status ? { status } : {}) });
    return { cause: e, error: { code, message: e.message, data: data as Record<string, unknown> } };
  }
  return {
    cause: e,
    error: {
      code: e instanceof AuthError ? JSONRPC_ERRORS.unauthorized : JSONRPC_ERRORS.upstreamError,
      message: e.message,
      data: { kind: e.kind, code: e.code, ...(status ? { status } : {}) },
    },
  };
}
