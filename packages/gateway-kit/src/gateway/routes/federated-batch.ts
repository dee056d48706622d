/**
 * The body of a POST to a federated endpoint: one JSON-RPC message, or a
 * JSON-RPC batch (issue 20). MCP 2025-03-26 lets a
 * session POST an array of messages; 2025-06-18 removed batches and the
 * 2026-07-28 wire never had them. A batch is checked as the bridge checks one
 * (`batchMessages` in the version module: the same refusals as the direct
 * path), then each element takes the single-message path of a 2025 session
 * (routing, per-tool policy, one span each), at most
 * {@link BATCH_CONCURRENCY} at once, and the answer is the array of the
 * responses in the order of the batch: none for notifications and client
 * responses, `202` when there are none at all.
 */
import { GatewayError } from '../../errors.js';
import { sessionNotFound, sessionRequired, type FederatedSession } from '../../federation/sessions.js';
import { batchMessages, checkBatchVersion, requestEra } from '../../protocol-version.js';
import { tracedAnswer } from '../../telemetry/federated-trace.js';
import type { McpRequestTrace } from '../../telemetry/mcp-trace.js';
import type { Identity } from '../../identity.js';
import type { RequestInfo } from '../../http/node.js';

/**
 * Elements of one batch served at once. A batch holds up to 1000 messages and
 * each may be a member request (a line to a child's stdin, an upstream HTTP
 * call): one POST puts at most this many in flight, the rest start in batch
 * order as earlier ones finish. The answer keeps the batch's order whatever
 * order the elements finish in.
 */
export const BATCH_CONCURRENCY = 8;

/** What a batch needs of the federated endpoint that got it. */
export interface BatchHost {
  /** `user`'s open session `id`. */
  session(id: string, user: string): FederatedSession | undefined;
  /**
   * One request or notification through the session's single-message path,
   * traced by `trace`; JSON answers only (an input request of a member is not relayed).
   */
  serveOne(
    message: Record<string, unknown>,
    sessionId: string,
    trace: McpRequestTrace | undefined,
  ): Promise<Response>;
  /** A client's response to a request relayed to `session`. */
  answer(session: string, message: Record<string, unknown>): void;
  /** A trace for one element, when telemetry is on. */
  trace(): McpRequestTrace | undefined;
}

/** The POST a batch came in. */
export interface BatchPost {
  values: unknown[];
  sessionId: string | null;
  header(name: string): string | null;
  identity: Identity;
  info: RequestInfo;
  /** The POST's trace: none of its own once the batch is served (its elements get one each). */
  trace: McpRequestTrace | undefined;
}

/**
 * The answer to a batch: refused as a whole (HTTP 400/404, as the direct path
 * refuses it), else the array of its elements' responses.
 */
export async function serveBatch(host: BatchHost, post: BatchPost): Promise<Response> {
  const { values, sessionId, identity, info } = post;
  const era = requestEra(values, post.header('mcp-protocol-version'), sessionId);
  // The body first, as the direct path checks it; then the session and its revision.
  const messages = batchMessages(values, era);
  if (!sessionId) throw sessionRequired();
  const session = host.session(sessionId, identity.sub);
  if (!session) throw sessionNotFound();
  checkBatchVersion(session.protocolVersion);
  post.trace?.forgo();
  const answers = await mapBounded(messages, BATCH_CONCURRENCY, async (c) => {
    const trace = host.trace();
    if (c.kind === 'response') {
      trace?.admitted(identity, [], undefined);
      host.answer(session.id, c.msg);
      if (trace) tracedAnswer(trace, new Response(null, { status: 202 }), info);
      return undefined;
    }
    trace?.admitted(identity, [c.msg], c.msg);
    let res: Response;
    try {
      res = await host.serveOne(c.msg, session.id, trace);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      res = err.toResponse(c.kind === 'request' ? c.id : null);
    }
    if (trace) tracedAnswer(trace, res, info);
    return res.status === 202 ? undefined : ((await res.json()) as unknown);
  });
  const out = answers.filter((a) => a !== undefined);
  if (out.length === 0) return new Response(null, { status: 202 });
  return Response.json(out, { headers: { 'cache-control': 'no-store' } });
}

/**
 * `fn` of each of `items`, at most `limit` running at once and started in the
 * order of `items`; the results in the order of `items`. After a rejection no
 * further item starts, and the first rejection is the result.
 */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
