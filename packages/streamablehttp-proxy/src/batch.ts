/**
 * JSON-RPC batches on the 2025 session wire (MCP 2025-03-26 allows them;
 * 2025-06-18 removed them; the 2026-07-28 wire never has them): the bridge's
 * checks of a POST body's messages, exported so that an intermediary (the
 * gateway's federated endpoints) refuses the same bodies with the same errors.
 */
import { BridgeHttpError, JsonRpcCode } from './errors.js';
import { classify, type Classified, type JsonRpcId } from './jsonrpc.js';

/** Messages one batch may hold at most. */
export const MAX_BATCH_MESSAGES = 1000;

/**
 * Classifies the messages of a POST body (`batch`: it was a JSON array):
 * 1 to {@link MAX_BATCH_MESSAGES} of them, each a JSON-RPC 2.0 message, no
 * request id twice in a batch, `initialize` alone. Throws the refusal (HTTP
 * 400, `-32600`).
 */
export function classifyMessages(values: readonly unknown[], batch: boolean): Classified[] {
  if (values.length === 0 || values.length > MAX_BATCH_MESSAGES) {
    throw invalid(`batch must hold 1 to ${MAX_BATCH_MESSAGES} messages`);
  }
  const ids = batch ? new Set<JsonRpcId>() : undefined;
  const out: Classified[] = [];
  for (const v of values) {
    const c = classify(v);
    if (!c) throw invalid('not a JSON-RPC 2.0 message');
    if (c.kind === 'request' && ids) {
      if (ids.has(c.id)) throw invalid('duplicate id in batch');
      ids.add(c.id);
    }
    out.push(c);
  }
  if (out.length > 1 && out.some((c) => c.kind === 'request' && c.method === 'initialize')) {
    throw invalid('initialize must be sent alone');
  }
  return out;
}

/** The refusal of a batch on the 2026-07-28 wire. */
export function modernBatchRefusal(): BridgeHttpError {
  return invalid('2026-07-28 requests are never batched');
}

function invalid(why: string): BridgeHttpError {
  return new BridgeHttpError(400, JsonRpcCode.InvalidRequest, `Invalid Request: ${why}`);
}
