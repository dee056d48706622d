/**
 * Translation between the 2026-07-28 wire and a 2025 child: the params a
 * child is given (no envelope, no MRTR fields), a child's server→client
 * request as the client is asked it, and a child's complete answer as the
 * 2026 client gets it.
 */
import type { JsonRpcId } from '../jsonrpc.js';
import { META } from './envelope.js';

/**
 * `_meta` key a 2025 child may put on its server→client request to name the
 * `inputRequests` key it is asked under (e.g. `"user_name"`); without it, or
 * when the name is taken or malformed, the key is `input-<n>`.
 */
export const INPUT_KEY_META = 'mcp-streamablehttp-proxy/inputKey';

/**
 * `_meta` key (value `true`) of a 2026 request whose caller relays the answer to a 2025 client,
 * as the gateway's federated endpoints do for their 2025 sessions: a child's `-32042` (URL
 * elicitation required, a 2025-11-25 error) is passed on unchanged instead of becoming an
 * `input_required` answer, and its `elicitationId` with it. Never reaches the child.
 */
export const RELAYS_TO_2025_META = 'mcp-streamablehttp-proxy/relaysTo2025';

/** Params keys that belong to the 2026 wire and never reach a 2025 child. */
export const WIRE_ONLY = ['inputResponses', 'requestState'];

/** The params a 2025 child gets: no 2026 envelope keys, no MRTR fields. */
export function childParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in params) {
    if (Object.hasOwn(params, k) && !WIRE_ONLY.includes(k) && k !== '_meta') out[k] = params[k];
  }
  const meta = params._meta;
  if (typeof meta === 'object' && meta !== null) {
    let kept: Record<string, unknown> | undefined;
    for (const k in meta) {
      if (Object.hasOwn(meta, k) && !k.startsWith('io.modelcontextprotocol/') && k !== RELAYS_TO_2025_META)
        (kept ??= {})[k] = (meta as Record<string, unknown>)[k];
    }
    if (kept) out._meta = kept;
  }
  return out;
}

/** A child's server→client request params as the client is asked them: without {@link INPUT_KEY_META}. */
export function withoutInputKey(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta;
  if (typeof meta !== 'object' || meta === null || !(INPUT_KEY_META in meta)) return params;
  const { [INPUT_KEY_META]: _named, ...rest } = meta as Record<string, unknown>;
  const { _meta: _old, ...out } = params;
  return Object.keys(rest).length > 0 ? { ...out, _meta: rest } : out;
}

/**
 * The wire text of a complete answer to request `id` whose `result` (the
 * child's, as parsed) has neither `_meta` nor `resultType`: the child's
 * result serialised once, with `resultType` and the server's info appended,
 * instead of copying it into a new object first. `undefined` when `result`
 * has either key (the caller merges them).
 */
export function completeAnswer(
  id: JsonRpcId,
  result: Record<string, unknown>,
  serverInfoJson: string,
  /** `result` as the child wrote it (`resultText` of `@mcp-gateway/internal`); serialised here when not given. */
  text?: string,
): string | undefined {
  if (Object.hasOwn(result, '_meta') || Object.hasOwn(result, 'resultType')) return undefined;
  const body = text ?? JSON.stringify(result);
  const sep = body === '{}' ? '' : ',';
  return (
    `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${body.slice(0, -1)}${sep}` +
    `"resultType":"complete","_meta":{${SERVER_INFO_KEY}:${serverInfoJson}}}}`
  );
}

const SERVER_INFO_KEY = JSON.stringify(META.serverInfo);
