/**
 * The JSON-RPC message of a POST to a federated endpoint (or a batch's array, which
 * `federated-batch.ts` serves), read and parsed (a non-JSON body is refused), and the
 * JSON-RPC answer written back.
 */
import { modernErrorStatus } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { lazyResponse } from '@mcp-gateway/internal/lazy-response';
import { GatewayError, JsonRpcCode } from '../../errors.js';
import type { MemberReply } from '../../federation/member.js';
import type { RequestInfo } from '../../http/node.js';
import { mcpBodyNotJson, mcpBodyText } from '../request-body.js';
import { isResponse } from './federated-input.js';

/** A POST's message: a request, a notification, or a client's response. */
export interface RpcMessage {
  jsonrpc?: unknown;
  id?: string | number | null;
  method?: unknown;
  params?: unknown;
}

/**
 * A JSON-RPC answer to `id` (a member's result as the member serialised it, when known: not
 * serialised again), HTTP 200 unless `status` says otherwise.
 */
export function rpc(
  id: string | number | null,
  reply: MemberReply,
  headers: Record<string, string> = {},
  status = 200,
): Response {
  const body =
    'error' in reply
      ? JSON.stringify({ jsonrpc: '2.0', id, error: reply.error })
      : reply.resultText !== undefined
        ? `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${reply.resultText}}`
        : JSON.stringify({ jsonrpc: '2.0', id, result: reply.result });
  return lazyResponse(body, {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

/**
 * The answer to a 2026-07-28 request, its HTTP status set by its error code whether the error is the
 * endpoint's or a member's ({@link modernErrorStatus}): `-32601` is 404 (SEP-2575), `-32020`,
 * `-32021` and `-32022` are 400 (a member's `-32021` too: the client lacks what it asked for),
 * anything else 200.
 */
export const modernRpc = (id: string | number | null, reply: MemberReply): Response =>
  rpc(id, reply, {}, 'error' in reply ? modernErrorStatus(reply.error.code) : 200);

/** A message's params when they are an object, else none. */
export const paramsOf = (m: RpcMessage): Record<string, unknown> =>
  typeof m.params === 'object' && m.params !== null && !Array.isArray(m.params)
    ? (m.params as Record<string, unknown>)
    : {};

/**
 * The JSON-RPC message of a POST, or a batch's array (a non-JSON body is refused): at once when
 * the edge read the body already (no promise), else once it is read.
 */
export function readMessage(
  request: Request,
  info: RequestInfo,
): RpcMessage | unknown[] | Promise<RpcMessage | unknown[]> {
  const text = mcpBodyText(request, info.body);
  return typeof text === 'string' ? parseMessage(text) : text.then(parseMessage);
}

/** A POST body's JSON-RPC request, notification or response, or a batch's array; anything else is refused. */
function parseMessage(text: string): RpcMessage | unknown[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw mcpBodyNotJson();
  }
  if (Array.isArray(json)) return json;
  if (
    typeof json !== 'object' ||
    json === null ||
    (typeof (json as RpcMessage).method !== 'string' && !isResponse(json))
  ) {
    throw new GatewayError(
      400,
      JsonRpcCode.InvalidRequest,
      'Invalid Request: not a JSON-RPC request, notification or response',
    );
  }
  return json;
}
