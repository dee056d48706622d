/**
 * What each protocol era gets from a federated endpoint: the 2025
 * `initialize` result, the 2026-07-28 `server/discover` result, and each
 * method's result dressed for the era (2026: `resultType`, cache hints on
 * lists; 2025: neither, and no input-required results).
 */
import { JSONRPC_ERROR_CODES, modernErrorCode } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { SERVED_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from '../protocol-version.js';
import { VERSION } from '../version.js';
import type { federatedCapabilities } from './endpoint.js';

type Capabilities = ReturnType<typeof federatedCapabilities> & { completions?: object };
import type { MemberReply } from './member.js';

/** The endpoint's `serverInfo`. */
export const FEDERATED_SERVER_INFO = { name: 'mcp-gateway-federated', version: VERSION };

/** The merged lists, whose 2026 results carry the endpoint's `ttlMs`/`cacheScope` (SEP-2549): per-user, never shared, not cached. */
const LISTS = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);
const NO_CACHE = { ttlMs: 0, cacheScope: 'private' };

/**
 * Methods whose "resource not found" is `-32002` in 2025 and `-32602` in 2026-07-28 (which
 * forbids emitting `-32002`): the endpoint's own refusals and a 2025-only member's.
 */
const RESOURCE_METHODS = new Set(['resources/read', 'completion/complete']);
const RESOURCE_NOT_FOUND_2025 = -32002;

/** Methods the 2026-07-28 wire removed (still served to 2025 sessions): `404` and `-32601` there. */
export const REMOVED_IN_MODERN: ReadonlySet<string> = new Set([
  'ping',
  'initialize',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** The revision a 2025 session speaks: the client's when supported, else the newest 2025 one. */
export function negotiatedVersion(requested: unknown): string {
  return typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
    ? requested
    : SUPPORTED_PROTOCOL_VERSIONS[0]!;
}

/** The `initialize` result of a 2025 session. */
export function initializeResult(
  protocolVersion: string,
  instructions: string,
  capabilities: Capabilities,
): Record<string, unknown> {
  return {
    protocolVersion,
    capabilities,
    serverInfo: FEDERATED_SERVER_INFO,
    instructions,
  };
}

/**
 * The `server/discover` result (SEP-2575) of a 2026-07-28 request: `supportedVersions` lists both
 * eras' revisions, as the endpoint serves 2025 sessions on the same URL.
 */
export function discoverResult(instructions: string, capabilities: Capabilities): Record<string, unknown> {
  return {
    resultType: 'complete',
    supportedVersions: [...SERVED_PROTOCOL_VERSIONS],
    capabilities,
    instructions,
    ...NO_CACHE,
    _meta: { [MCP_META_KEYS.serverInfo]: FEDERATED_SERVER_INFO },
  };
}

/**
 * The HTTP status the endpoint's own errors in replies stand for: each says a
 * member could not serve (it cannot be reached, fails, misses its deadline,
 * opens no session), what a gateway answers `502` for.
 */
const MEMBER_FAILURE_STATUS = 502;

/**
 * A reply dressed for a 2026-07-28 caller: `resultType` (a member's
 * `input_required` result passes through, so its retry comes back here and
 * is routed to the same member), the cache hints on lists (the endpoint's) and
 * on a complete `resources/read` (the member's own, else "not cached"),
 * "resource not found" as `-32602`, the endpoint's own errors in 2026
 * codes (`modernRefusal`'s, as for a `502`: `-32603`) and the per-tool
 * policy's refusal as `-31010`; a member's own error (and a custom policy
 * hook's own code) is passed on as it was sent.
 */
export function modernReply(method: string, reply: MemberReply): MemberReply {
  if ('error' in reply) {
    const { error } = reply;
    if (error.code === RESOURCE_NOT_FOUND_2025 && RESOURCE_METHODS.has(method))
      return { error: { ...error, code: -32602 } };
    if (reply.byPolicy && error.code === JSONRPC_ERROR_CODES.PolicyDenied)
      return {
        error: { ...error, code: JSONRPC_ERROR_CODES.PolicyDeniedModern },
        asSent: true,
        byPolicy: true,
      };
    if (reply.asSent) return reply;
    const code = modernErrorCode(error.code, MEMBER_FAILURE_STATUS);
    return code === error.code ? reply : { error: { ...error, code } };
  }
  const r = reply.result;
  const list = LISTS.has(method);
  const hintless =
    method === 'resources/read' &&
    r.resultType !== 'input_required' &&
    (typeof r.ttlMs !== 'number' || typeof r.cacheScope !== 'string');
  // A member's answer that says its `resultType` (2026-07-28 members do) is dressed already: not copied.
  if (typeof r.resultType === 'string' && !list && !hintless) return reply;
  const result: Record<string, unknown> = { resultType: 'complete', ...r };
  if (list || hintless) Object.assign(result, NO_CACHE);
  return { result };
}

/**
 * A reply dressed for a 2025 session: 2026-only fields removed; a member's
 * `input_required` result (it asked for elicitation or sampling) that was not
 * relayed to the client (`gateway/routes/federated-input.ts`: the client takes
 * no event stream) becomes `-32021`.
 */
export function legacyReply(reply: MemberReply): MemberReply {
  if ('error' in reply) return reply;
  const { resultType, ttlMs: _t, cacheScope: _c, ...result } = reply.result;
  if (resultType === 'input_required') {
    return {
      error: {
        code: -32021,
        message:
          'the service asked the client for input (elicitation or sampling), which this request cannot relay (it does not accept text/event-stream)',
      },
    };
  }
  return { result };
}
