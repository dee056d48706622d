import { realRequest } from '@mcp-gateway/internal/lazy-request';
import type { PolicyIdentity } from './engine.js';
import type { GatewayPolicy } from './gateway-policy.js';
import { ANY_TOOLS_RESULT, rewriteResults, withRefusals } from './list-filter.js';

/** A JSON-RPC message of a request body, as the MCP route parsed it. */
interface RpcLike {
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

/**
 * The per-tool policy step of one MCP request to a service, a hook on the MCP
 * route (made by {@link policyAdmission}, which returns nothing when the
 * service has no policy or the body holds no `tools/call` or `tools/list`).
 */
export interface PolicyAdmission {
  /** Set when every request of the body was refused: the answer, and nothing is forwarded. */
  readonly answer: Response | undefined;
  /** The messages to forward: the body's, without the refused calls. */
  readonly messages: RpcLike[];
  /** Set when some calls of a batch were refused: the body to forward instead ({@link withBody}). */
  readonly body: string | undefined;
  /** The `JSON.parse` of that new body. */
  readonly json: unknown;
  /** The backend's answer with hidden tools left out of `tools/list` results and the refusals of a batch added. */
  respond(res: Response): Promise<Response>;
}

const hasId = (m: RpcLike) => m.id !== undefined;

/**
 * Applies `policy` to the parsed body of a request to `service`: each
 * `tools/call` it refuses is taken out (answered with the JSON-RPC
 * `PolicyDenied` error of the request's era, never forwarded), each `tools/list` is remembered
 * so that its result is filtered on the way back. Works on single messages
 * (both protocol eras) and on JSON-RPC batches (2025-03-26).
 *
 * Per request without a policy for the service: one map lookup.
 */
export function policyAdmission(
  policy: GatewayPolicy | undefined,
  service: string,
  identity: PolicyIdentity,
  messages: RpcLike[],
  json: unknown,
  /** Whether the request is a 2026-07-28 one: its refusals get that revision's code (`-31010`). */
  modern: () => boolean,
): PolicyAdmission | undefined {
  if (!policy?.has(service) || messages.length === 0) return undefined;
  const refused: object[] = [];
  const kept: RpcLike[] = [];
  const lists = new Set<unknown>();
  let dropped = false;
  for (const m of messages) {
    const denied = policy.admitCall(identity, service, m);
    if (denied) {
      dropped = true;
      if (hasId(m)) refused.push({ jsonrpc: '2.0', id: m.id, error: denied.jsonRpcErrorIn(modern()) });
      continue;
    }
    if (m.method === 'tools/list' && hasId(m)) lists.add(m.id);
    kept.push(m);
  }
  if (!dropped && lists.size === 0) return undefined;
  const batch = Array.isArray(json);
  const respond = async (res: Response) => {
    const filtered = lists.size
      ? rewriteResults(res, lists, (result) => policy.filterTools(identity, service, result))
      : res;
    return refused.length ? withRefusals(filtered, refused) : filtered;
  };
  if (!dropped) return { answer: undefined, messages, json, body: undefined, respond };
  if (kept.length === 0) {
    const answer = refused.length
      ? Response.json(batch ? refused : refused[0], { headers: { 'cache-control': 'no-store' } })
      : new Response(null, { status: 202 });
    return { answer, messages: kept, json: undefined, body: undefined, respond };
  }
  const body = JSON.stringify(kept);
  return { answer: undefined, messages: kept, json: kept, body, respond };
}

/** `request` with another body (its headers, less a stale length): a batch without its refused calls. */
export function withBody(request: Request, body: string): Request {
  const real = realRequest(request);
  const headers = new Headers(real.headers);
  headers.delete('content-length');
  return new Request(real.url, { method: real.method, headers, body });
}

/**
 * The policy step of a `GET` (the standalone stream of a 2025 session, and
 * `Last-Event-ID` resumption, which replays earlier answers): every
 * `tools/list` result on it is filtered. `undefined` without a policy.
 */
export function policyForStream(
  policy: GatewayPolicy | undefined,
  service: string,
  identity: PolicyIdentity,
): PolicyAdmission | undefined {
  if (!policy?.has(service)) return undefined;
  return {
    answer: undefined,
    messages: [],
    body: undefined,
    json: undefined,
    respond: async (res) =>
      rewriteResults(res, ANY_TOOLS_RESULT, (result) => policy.filterTools(identity, service, result)),
  };
}
