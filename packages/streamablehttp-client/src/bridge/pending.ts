/**
 * The host's requests awaiting their answer, and the rule that each gets
 * exactly one: when its answer can no longer come (202, JSON without it, an
 * SSE stream that ended with no event id to resume from, a failed resume),
 * it gets a `-32000` error at once.
 */
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { JSONRPC_ERRORS, ServerError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PostAnswerKind, ResumeOutcome } from './stream-watch.js';

/** A host request awaiting its answer. */
export interface PendingRequest {
  method: string;
  generation: number;
  sending: boolean;
  /** Number of the POST answer carrying it (see `watchStreams`), and how it came. */
  stream?: number;
  answerKind?: PostAnswerKind;
  /** Id of the last SSE event of its answer stream: where a resume starts. */
  lastEventId?: string;
  /** Failed resume attempts in a row. */
  resumeFailures: number;
}

/** The key of a JSON-RPC id in the maps of pending requests. */
export const keyOf = (id: RequestId) => JSON.stringify(id);

export function isRequest(m: JSONRPCMessage): m is JSONRPCRequest {
  return 'method' in m && 'id' in m;
}

export function isResponse(m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } {
  return !('method' in m) && 'id' in m;
}

/** What {@link PendingAnswers} needs from the bridge. */
export interface PendingAnswersOptions {
  /** The remote MCP endpoint, named in errors. */
  url: URL;
  log: Logger;
  /** Answers the host's request `id` with an error (when it is still pending). */
  answerError: (id: RequestId, code: number, message: string, data?: unknown) => void;
  /** Whether the bridge is closed: nothing is answered then. */
  closed: () => boolean;
  /** Failed resumes in a row after which a request is given up. */
  maxResumeFailures: number;
}

/** Follows each pending request's answer stream and answers those whose answer can no longer come. */
export class PendingAnswers {
  /** Host requests awaiting their answer, by {@link keyOf} id. */
  readonly requests = new Map<string, PendingRequest>();

  constructor(private readonly o: PendingAnswersOptions) {}

  /**
   * Answers a request whose answer can no longer come, once (unless it was
   * answered or re-sent meanwhile).
   */
  lost(key: string, entry: PendingRequest, err: ServerError): void {
    if (this.o.closed() || this.requests.get(key) !== entry) return;
    const id = JSON.parse(key) as RequestId;
    this.o.log.warn('no answer from the server', {
      id,
      method: entry.method,
      code: err.code,
      error: err.message,
    });
    this.o.answerError(id, JSONRPC_ERRORS.upstreamError, err.message, { kind: err.kind, code: err.code });
  }

  /** The POST of `ids` was answered: as stream number `stream`, by `kind`. */
  posted(ids: RequestId[], stream: number, kind: PostAnswerKind): void {
    for (const id of ids) {
      const key = keyOf(id);
      const entry = this.requests.get(key);
      if (!entry) continue;
      entry.stream = stream;
      entry.answerKind = kind;
      entry.lastEventId = undefined;
      entry.resumeFailures = 0;
      if (kind === 'accepted') {
        this.lost(
          key,
          entry,
          new ServerError(
            'no_answer',
            `${this.o.url.href} accepted the request with HTTP 202 and will not answer it`,
          ),
        );
      }
    }
  }

  /** The SSE answer `stream` ended (every event in it has been handled). */
  streamEnded(stream: number): void {
    for (const [key, entry] of this.requests) {
      if (entry.stream !== stream || entry.answerKind !== 'sse') continue;
      if (entry.lastEventId === undefined) {
        this.lost(
          key,
          entry,
          new ServerError(
            'stream_ended',
            `${this.o.url.href} ended the stream before it answered (no event id to resume from); retry the request`,
          ),
        );
      } else {
        this.o.log.info('answer stream ended before the answer; resuming', {
          id: JSON.parse(key) as unknown,
          lastEventId: entry.lastEventId,
        });
      }
    }
  }

  /** The SSE answer `stream` failed for good (`err`): its requests are answered with it. */
  streamFailed(stream: number, err: ServerError): void {
    for (const [key, entry] of this.requests) {
      if (entry.stream === stream && entry.answerKind === 'sse') this.lost(key, entry, err);
    }
  }

  /** A resume from `lastEventId` was answered with `outcome`. */
  resumed(lastEventId: string, outcome: ResumeOutcome, detail: string): void {
    this.o.log.debug('resume answered', { lastEventId, outcome, detail });
    for (const [key, entry] of this.requests) {
      if (entry.lastEventId !== lastEventId || entry.answerKind !== 'sse') continue;
      if (outcome === 'ok') {
        entry.resumeFailures = 0;
        continue;
      }
      entry.resumeFailures++;
      if (outcome === 'refused' || entry.resumeFailures >= this.o.maxResumeFailures) {
        this.lost(
          key,
          entry,
          new ServerError(
            'resume_failed',
            `${this.o.url.href} ended the stream before it answered, and resuming it failed (${detail}); retry the request`,
          ),
        );
      }
    }
  }

  /** A JSON answer to the POST of `key` is handled before its send resolves: if it did not carry the response, none will come. */
  sent(key: string, entry: PendingRequest): void {
    entry.sending = false;
    if (entry.answerKind === 'json')
      this.lost(
        key,
        entry,
        new ServerError(
          'no_answer',
          `${this.o.url.href} answered with JSON that did not contain the response to this request`,
        ),
      );
  }
}
