/**
 * What a server's answers say about its era beyond the `server/discover`
 * probe (MCP 2026-07-28 basic/versioning "Backward Compatibility"): the
 * failures that only a 2025 server, or only a 2026-07-28 server, gives; and
 * a 2026 error as a 2025 host reads it.
 */
import { ServerError } from '../errors.js';
import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { isModernErrorCode } from './versions.js';
import type { RpcAnswer, RpcError } from './wire.js';

/**
 * HTTP statuses of a 2025 server refusing a 2026-07-28 request it cannot read:
 * 400 (no session, unknown header version), 404 and 405 (no Streamable HTTP
 * endpoint of that shape). MCP 2026-07-28 basic/transports/streamable-http
 * "Backward Compatibility" and basic/versioning "Compatibility Matrix"
 * (Dual-era client, Legacy server: "the modern request returns a `4xx` without
 * a recognized modern error body, and the client falls back to `initialize`").
 */
export const LEGACY_STATUSES = new Set([400, 404, 405]);

/**
 * `-32000`…`-32019`: codes "allocated by implementations before" 2026-07-28,
 * which "new implementations SHOULD NOT use" (basic/index "Error Codes"), such
 * as a 2025 server's "no valid session" `-32000`.
 */
const isLegacyRangeCode = (code: number) => code <= -32000 && code >= -32019;

/**
 * True when a 2026-07-28 request's failure says the server is a 2025 one: a
 * 400, 404 or 405 without a JSON-RPC body, or with a code from the legacy
 * sub-range. Used to forget a remembered `modern` decision ("re-probing if the
 * cached assumption later fails", basic/versioning "Backward Compatibility").
 * A 2026 server's own refusals (`-32601` on 404, `-32602` on 400, the modern
 * codes) do not count.
 */
export function revealsLegacy(failure: unknown): boolean {
  if (failure instanceof ServerError)
    return failure.code.startsWith('http_') && LEGACY_STATUSES.has(failure.status ?? 0);
  const answer = failure as Partial<RpcAnswer> | undefined;
  return (
    !!answer?.error &&
    typeof answer.status === 'number' &&
    LEGACY_STATUSES.has(answer.status) &&
    isLegacyRangeCode(answer.error.code)
  );
}

/**
 * True when a 2025 `initialize` failed the way only a 2026-07-28 server fails
 * it: an HTTP error whose JSON-RPC body carries -32020, -32021 or -32022. Used
 * to forget a remembered `legacy` decision.
 */
export function revealsModern(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const body = /\{.*\}/s.exec(e.message)?.[0];
    if (!body) continue;
    try {
      const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
      if (isModernErrorCode(code)) return true;
    } catch {
      // not a JSON body
    }
  }
  return false;
}

/** 2025's "resource not found" code, which 2026-07-28 replaced with -32602 (basic/index "Error Codes"). */
export const RESOURCE_NOT_FOUND_2025 = -32002;

/**
 * A 2026-07-28 server's JSON-RPC error to `method` as a 2025 host gets it,
 * where 2025 defines its own code for the case: "resource not found" on
 * `resources/read` is -32602 in 2026-07-28 (server/resources "Error
 * Handling") and -32002 in every 2025 revision. A -32602 on `resources/read`
 * counts as "not found" when its message says so or its `data` names a `uri`
 * (the shape the spec's example has); other invalid-params errors and every
 * other code pass unchanged, message and data kept.
 */
export function errorForLegacyHost(method: string, error: RpcError): RpcError {
  if (method !== 'resources/read' || error.code !== JSONRPC_ERROR_CODES.InvalidParams) return error;
  const data = error.data as { uri?: unknown } | undefined;
  const notFound = /not\s*found/i.test(error.message) || typeof data?.uri === 'string';
  return notFound ? { ...error, code: RESOURCE_NOT_FOUND_2025 } : error;
}
