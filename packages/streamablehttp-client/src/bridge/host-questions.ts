/**
 * The bridge's own requests to a 2025 stdio host: the `elicitation/create`,
 * `sampling/createMessage` and `roots/list` requests that one round of a
 * 2026-07-28 `input_required` result asks for, in parallel. A question that
 * will no longer be used (its request was cancelled, another question of the
 * round failed, it timed out) is withdrawn: the host gets
 * `notifications/cancelled` for it (MCP 2026-07-28 basic/patterns/cancellation:
 * a client "SHOULD" cancel a request it gives up on, and on stdio "MUST send a
 * `notifications/cancelled` notification referencing the request ID"), and a
 * late answer is ignored.
 */
import { ClientError, ServerError } from '../errors.js';
import type { InputRequest } from '../protocol/client.js';
import type { Id } from '../protocol/wire.js';

/** A JSON-RPC response from the host. */
export interface HostAnswer {
  id?: Id;
  result?: unknown;
  error?: unknown;
}

/** How long the host may take to answer one input request (a person may be typing an elicitation). */
export const DEFAULT_INPUT_TIMEOUT_MS = 10 * 60_000;

const INPUT_ID_PREFIX = 'mcp-streamablehttp-client-input-';

interface Question {
  answered(m: HostAnswer): void;
  /** Stops waiting (rejecting with `err`); the caller tells the host. */
  drop(err: Error): void;
}

export class HostQuestions {
  private readonly open = new Map<string, Question>();
  private count = 0;

  constructor(
    private readonly write: (m: Record<string, unknown>) => void,
    private readonly timeoutMs = DEFAULT_INPUT_TIMEOUT_MS,
  ) {}

  /** Hands the host's answer to its question; false when it answers none that is open. */
  answer(m: HostAnswer): boolean {
    const q = m.id !== undefined ? this.open.get(JSON.stringify(m.id)) : undefined;
    q?.answered(m);
    return q !== undefined;
  }

  /**
   * Asks the host every request of one round, in parallel, and resolves with
   * the results by key. When `signal` aborts, or one question fails, the
   * others still open are withdrawn.
   */
  async round(
    requests: Record<string, InputRequest>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const entries = Object.entries(requests);
    const ids: string[] = [];
    const withdrawAll = (reason: string) => {
      for (const id of ids) this.withdraw(id, reason);
    };
    const onAbort = () => withdrawAll('the request was cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const asked = entries.map(([, r]) => this.ask(r, ids));
      if (signal?.aborted) onAbort();
      const results = await Promise.all(asked);
      return Object.fromEntries(entries.map(([k], i) => [k, results[i]]));
    } catch (err) {
      withdrawAll(
        signal?.aborted ? 'the request was cancelled' : 'another input request of the round failed',
      );
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private ask(r: InputRequest, ids: string[]): Promise<unknown> {
    const id = `${INPUT_ID_PREFIX}${++this.count}`;
    const key = JSON.stringify(id);
    ids.push(id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.withdraw(
            id,
            'timed out',
            new ServerError('timeout', `the host did not answer ${r.method} in time`),
          ),
        this.timeoutMs,
      );
      timer.unref();
      const settle = () => {
        clearTimeout(timer);
        this.open.delete(key);
      };
      this.open.set(key, {
        answered: (m) => {
          settle();
          if (m.error !== undefined)
            reject(
              new ClientError(
                'server',
                'host_error',
                `the host refused ${r.method}: ${JSON.stringify(m.error)}`,
              ),
            );
          else resolve(m.result);
        },
        drop: (err) => {
          settle();
          reject(err);
        },
      });
      this.write({ jsonrpc: '2.0', id, method: r.method, ...(r.params ? { params: r.params } : {}) });
    });
  }

  /** If `id` is still open: stops waiting for it and sends the host `notifications/cancelled`. */
  private withdraw(id: string, reason: string, err?: Error): void {
    const q = this.open.get(JSON.stringify(id));
    if (!q) return;
    q.drop(err ?? new ServerError('cancelled', `input request ${id} withdrawn: ${reason}`));
    this.write({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
  }
}
