import { AuthError, JSONRPC_ERRORS, type ClientError } from '../errors.js';
import { toClientError } from '../http/mcp-errors.js';

/** The JSON-RPC error the host gets for a request the bridge could not get answered upstream. */
export interface UpstreamErrorAnswer {
  code: number;
  message: string;
  data: { kind: string; code: string; status?: number };
}

/**
 * `err` (what the fetch, the MCP SDK or the 2026 client threw) as the error
 * answer to the host: `-32001` for authorization failures, `-32000` for the
 * rest, with `data: { kind, code, status }`; and the {@link ClientError} it
 * was read as (for the log).
 */
export function upstreamErrorOf(
  err: unknown,
  url: string,
): { error: UpstreamErrorAnswer; cause: ClientError } {
  const e = toClientError(err, url);
  const status = (e as { status?: number }).status;
  return {
    cause: e,
    error: {
      code: e instanceof AuthError ? JSONRPC_ERRORS.unauthorized : JSONRPC_ERRORS.upstreamError,
      message: e.message,
      data: { kind: e.kind, code: e.code, ...(status ? { status } : {}) },
    },
  };
}
