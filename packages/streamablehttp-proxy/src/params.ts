import { BridgeHttpError, JsonRpcCode } from './errors.js';
import type { Classified } from './jsonrpc.js';

/**
 * The `params` rules the bridge can check without knowing the server
 * (JSON-RPC 2.0 §4.2, MCP 2025-11-25 base protocol):
 *
 * - `params`, when present, is a structured value (object or array);
 * - MCP requests and notifications take an object (`params?: { … }`), never an array;
 * - `initialize` has params, an object.
 *
 * A message that breaks one is refused with 400 and JSON-RPC error `-32602`
 * (carrying the request's id) before it reaches a child: stdio servers drop
 * such lines without answering, which would leave the request waiting.
 */
export function checkParams(c: Classified): void {
  if (c.kind === 'response') return;
  const params = c.msg.params;
  const id = c.kind === 'request' ? c.id : null;
  if (params === undefined) {
    if (c.method === 'initialize') throw invalidParams(id, 'initialize requires params (an object)');
    return;
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    const what = params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params;
    throw invalidParams(id, `params of ${c.method} must be an object, not ${what}`);
  }
}

function invalidParams(id: string | number | null, message: string): BridgeHttpError {
  return new BridgeHttpError(400, JsonRpcCode.InvalidParams, `Invalid params: ${message}`, {}, id);
}
