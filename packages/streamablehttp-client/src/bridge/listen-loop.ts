/**
 * The bridge's `subscriptions/listen` stream (MCP 2026-07-28
 * basic/patterns/subscriptions): kept open while the host wants change
 * notifications, reopened with backoff when it ends, fails or the server
 * tears it down.
 */
import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { ServerError, type ClientError } from '../errors.js';
import { toClientError } from '../http/mcp-errors.js';
import type { Logger } from '../log.js';
import type { ModernClient } from '../protocol/client.js';
import type { RpcAnswer, RpcNotification } from '../protocol/wire.js';

/** Delays between reopenings: doubling from `first` up to `max`, back to `first` after an acknowledgment. */
export const LISTEN_RETRY_MS = { first: 1000, max: 30_000 };

/**
 * A refusal worth asking again: the server failing or overloaded (HTTP 5xx or
 * 429, or -32603), e.g. during a restart. Others (-32601, -32602: the server
 * does not serve this filter) end listening.
 */
function transient(answer: RpcAnswer): boolean {
  return (
    answer.status >= 500 || answer.status === 429 || answer.error?.code === JSONRPC_ERROR_CODES.InternalError
  );
}

/**
 * A failure not worth asking again: authorization refused (an
 * `AuthError`: asking again could only start another sign-in), an HTTP
 * 4xx other than 429, or an endpoint that is not MCP. Network failures, HTTP
 * 5xx and 429 are retried.
 */
function permanent(err: ClientError): boolean {
  if (err.kind === 'auth' || err.kind === 'usage' || err.code === 'not_mcp') return true;
  const status = err instanceof ServerError ? err.status : undefined;
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
}

/**
 * Listens with `filter` until `signal` aborts, handing the host the
 * notifications (`deliver`) but not the stream's own bookkeeping: the
 * acknowledgment, and the server's `notifications/cancelled` tearing the
 * subscription down ("A server MUST send `notifications/cancelled`
 * referencing a `subscriptions/listen` request ID when it tears down that
 * subscription stream", basic/patterns/cancellation), which ends this stream
 * (and would name a request id of ours, not the host's).
 */
export async function keepListening(
  client: ModernClient,
  filter: Record<string, unknown>,
  signal: AbortSignal,
  deliver: (n: RpcNotification) => void,
  log: Logger,
): Promise<void> {
  let delay = LISTEN_RETRY_MS.first;
  while (!signal.aborted) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const answer = await client.listen(filter, attempt.signal, (n) => {
        if (n.method === 'notifications/subscriptions/acknowledged') delay = LISTEN_RETRY_MS.first;
        else if (n.method === 'notifications/cancelled') {
          log.info('the server ended the subscription; listening again', { reason: n.params?.reason });
          attempt.abort();
        } else deliver(n);
      });
      if (answer?.error) {
        if (!transient(answer)) {
          log.warn('subscriptions/listen refused; no change notifications', { error: answer.error.message });
          return;
        }
        log.warn('subscriptions/listen failed; trying again', { error: answer.error.message });
      }
    } catch (err) {
      if (signal.aborted) return;
      if (!attempt.signal.aborted) {
        const failure = toClientError(err, client.url.href);
        if (permanent(failure)) {
          log.warn('subscriptions/listen refused; no change notifications', { error: failure.message });
          return;
        }
        log.warn('subscriptions/listen failed; trying again', { error: failure.message });
      }
    } finally {
      signal.removeEventListener('abort', stop);
    }
    await new Promise((r) => setTimeout(r, delay).unref());
    delay = Math.min(delay * 2, LISTEN_RETRY_MS.max);
  }
}
