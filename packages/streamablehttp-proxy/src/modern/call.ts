import { BridgeHttpError, JsonRpcCode, modernChildError } from '../errors.js';
import type { Classified, JsonRpcId } from '../jsonrpc.js';
import type { Logger } from '../log.js';
import type { Clock } from '../options.js';
import type { ChildLease, ChildResponse, PooledChild } from './child.js';
import { META, logLevelAllows, type ModernRequest } from './envelope.js';
import { digestOf, type InputStep, type RequestStateCodec } from './request-state.js';
import type { Ticker, Ticking } from './ticker.js';
import { resultText } from '@mcp-gateway/internal/result-text';
import { urlPagesOf } from '@mcp-gateway/internal/url-elicitation-pages';
import { modernErrorStatus } from '@mcp-gateway/internal/jsonrpc-error-codes';
import {
  childParams,
  completeAnswer,
  INPUT_KEY_META,
  RELAYS_TO_2025_META,
  WIRE_ONLY,
  withoutInputKey,
} from './wire.js';
import {
  URL_ELICITATION_CAPABILITY,
  URL_ELICITATION_REQUIRED,
  checkUrlAnswers,
  urlElicitationError,
  urlInputRequests,
} from './url-elicitation.js';

/** Methods that may answer `input_required` (SEP-2322). */
const MRTR_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Server→client request → the client capability it needs. */
const INPUT_CAPABILITY: Record<string, string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** Results that carry caching hints (SEP-2549). */
const CACHEABLE: ReadonlySet<string> = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/** The cancellation reason of a request past its deadline (its child is ended, not reused). */
const TIMED_OUT = 'Request timed out';

/** The steps of a call that has none yet (no retry, no input asked): shared, replaced before any write. */
const NO_STEPS: InputStep[] = [];

/** How long the child's server→client requests are gathered into one `input_required`, in ms. */
const INPUT_BATCH_MS = 20;

const INPUT_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The error of a 2026 request past its deadline: `-32603`, not the SDK's `-32001` (2026 servers
 * should not use -32000…-32019; basic/index, "Error Codes").
 */
export function timeoutError(): Record<string, unknown> {
  return { code: JsonRpcCode.InternalError, message: 'Request timed out', data: { reason: 'timeout' } };
}

/**
 * Whether a request may share its child with other shareable requests ({@link PooledChild}):
 * nothing the child asks during it could reach its client (it declares none of the input
 * capabilities and brings no inputs), it wants no log lines, and it is no retry.
 */
export function shareable(req: ModernRequest): boolean {
  const caps = req.clientCapabilities;
  return (
    req.logLevel === undefined &&
    req.params.requestState === undefined &&
    req.params.inputResponses === undefined &&
    caps.elicitation === undefined &&
    caps.sampling === undefined &&
    caps.roots === undefined
  );
}

/** What a call shares with the handler. */
export interface CallContext {
  codec: RequestStateCodec;
  clock: Clock;
  logger: Logger;
  /** Deadline without progress, in ms (`0`: none); progress moves it up to `maxRequestTimeoutMs`. */
  requestTimeoutMs: number;
  maxRequestTimeoutMs: number;
  requestStateTtlMs: number;
  listTtlMs: number;
  /** The shared timer that checks every call's deadline (no timer per call). */
  ticker: Ticker;
  /** Called with child notifications that belong to no request (list changes). */
  onUnrouted(user: string, msg: Classified, child: PooledChild): void;
}

/** Where a call's output goes: streamed notifications, then exactly one final answer. */
export interface CallSink {
  /** True when someone reads the final message as an object (a response observer). */
  readonly observing: boolean;
  notify(msg: Record<string, unknown>): void;
  /**
   * The final JSON-RPC message; `status` is used when nothing was streamed
   * yet. With `text` (the message already serialised for the wire), `msg`
   * is `undefined` unless {@link observing}.
   */
  done(status: number, msg: Record<string, unknown>): void;
  done(status: number, msg: Record<string, unknown> | undefined, text: string): void;
  /** The shared timer's tick while the call runs: `elapsed` ms since it started. */
  tick(elapsed: number, now: number): void;
}

/**
 * One 2026-07-28 request forwarded to a leased 2025 child: ids rewritten,
 * envelope stripped, progress and (when asked) log notifications streamed,
 * a deadline, cancellation, and MRTR: a server→client request of the child
 * becomes an `input_required` result whose signed `requestState` lets the
 * retry replay the request on any child and answer the same requests from
 * `inputResponses`.
 */
export class ModernCall implements ChildLease, Ticking {
  /** The shared ticker's bookkeeping ({@link Ticking.tickerSlot}), declared so every call has one shape. */
  tickerSlot: number | undefined = undefined;
  private childId: string | undefined;
  private finished = false;
  /** When the client gets a timeout error (clock time; `Infinity`: never); progress moves it. */
  private deadline = Infinity;
  private readonly started: number;
  private steps: InputStep[] = NO_STEPS;
  /** Server→client requests the child has made in this run. */
  private asked = 0;
  /** Server→client requests of the child waiting for the client's input (ids of the child). */
  private waiting: JsonRpcId[] | undefined;
  /** The inputs to ask for, by key, gathered for one `input_required` answer. */
  private asking: Record<string, { method: string; params: Record<string, unknown> }> | undefined;
  private askTimer: NodeJS.Timeout | undefined;
  /** Digest of the request's params, made only when a requestState is checked or signed. */
  private paramsDigest: string | undefined;
  private readonly retry: boolean;
  /** Capabilities the child needed that the request did not declare (its requests for them were refused). */
  private refused: Record<string, Record<string, object>> | undefined;
  /** The request's `inputResponses` (an object), for inputs not yet in the state. */
  private given: Record<string, unknown> | undefined;
  /** The progress token the child was given instead of the client's (a shared call's). */
  private childToken: string | undefined;
  /** The keys of the pages the retried call asked to open (its child's `-32042`), none taken by the child's inputs. */
  private urlKeys: readonly string[] = [];

  constructor(
    private readonly req: ModernRequest,
    private readonly child: PooledChild,
    private readonly serverInfo: Record<string, unknown>,
    private readonly ctx: CallContext,
    private readonly sink: CallSink,
    /** Gives the child back; `healthy: false` (it missed a deadline) ends it instead. */
    private readonly release: (child: PooledChild, healthy: boolean, shared: boolean) => void,
    /** The child may run other shareable requests meanwhile ({@link shareable}). */
    private readonly shared = false,
  ) {
    this.started = ctx.clock.now();
    this.retry = MRTR_METHODS.has(req.method) && req.params.requestState !== undefined;
  }

  private get digest(): string {
    return (this.paramsDigest ??= digestOf(this.req.params, ['_meta', ...WIRE_ONLY]));
  }

  /** Verifies any `requestState` (throws -32602), then sends the request to the child. */
  start(): void {
    const { req } = this;
    const responses = req.params.inputResponses;
    if (typeof responses === 'object' && responses !== null && !Array.isArray(responses)) {
      this.given = responses as Record<string, unknown>;
    }
    if (this.retry) {
      const state = this.ctx.codec.verify(req.params.requestState, {
        user: this.child.user,
        method: req.method,
        digest: this.digest,
        now: this.ctx.clock.now(),
        id: req.id,
      });
      this.steps = state.s.map((s) => {
        const r = s.r === undefined ? this.answerFor(s) : undefined;
        return r === undefined ? s : { ...s, r };
      });
      this.urlKeys = state.x ?? [];
      checkUrlAnswers(this.urlKeys, this.given, req.id);
    }
    this.child.attach(this);
    const params = childParams(req.params);
    if (this.shared) this.ownProgressToken(params);
    this.childId = this.child.request(req.method, params, this);
    // The deadline after the write: the child's answer comes in a later turn, and the child starts sooner.
    this.arm(this.ctx.requestTimeoutMs);
    this.ctx.ticker.add(this);
  }

  /**
   * A shared call's progress token, if any, is replaced by one of the child's own, so that calls
   * of other clients on the same child cannot send the same one ({@link PooledChild.progressRoutes}).
   */
  private ownProgressToken(params: Record<string, unknown>): void {
    const meta = params._meta as Record<string, unknown> | undefined;
    if (meta?.progressToken === undefined) return;
    const token = this.child.progressToken();
    meta.progressToken = token;
    this.childToken = token;
    this.child.progressRoutes.set(token, this);
  }

  /** The shared timer: the deadline, then the sink's own timing (the switch to streaming). */
  tick(now: number): void {
    if (this.finished) return;
    if (now >= this.deadline) return this.timedOut();
    this.sink.tick(now - this.started, now);
  }

  /** The client went away (closing the response is cancellation on the 2026 wire). */
  cancel(reason: string): void {
    if (this.finished) return;
    this.stop(reason);
  }

  /** The child answered the request (the lease's {@link ChildLease.answered}). */
  answered(r: ChildResponse, line?: string): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.answer(r, line);
    } finally {
      // The child goes back after the answer is written: its bookkeeping is not on the client's wait.
      this.stop(undefined);
    }
  }

  /** Hands the child's answer to the sink as the 2026 client gets it. */
  private answer(r: ChildResponse, line: string | undefined): void {
    const failed = 'error' in r || r.result.isError === true;
    if (failed && this.refused) {
      // The call failed after the child was refused input the client cannot give (SEP-2575).
      const names = Object.keys(this.refused).join(', ');
      this.sink.done(400, {
        jsonrpc: '2.0',
        id: this.req.id,
        error: {
          code: JsonRpcCode.MissingRequiredClientCapability,
          message: `Missing required client capability: ${names} (the server needed it)`,
          data: { requiredCapabilities: this.refused },
        },
      });
      return;
    }
    if ('error' in r) {
      if (r.error.code === URL_ELICITATION_REQUIRED && !this.relaysTo2025())
        return this.urlElicitation(r.error);
      // The status 2026-07-28 gives the code: 404 for a method the server does not implement (SEP-2575), 400 for -32021, ….
      const status = typeof r.error.code === 'number' ? modernErrorStatus(r.error.code) : 200;
      const error = modernChildError(this.req.method, r.error);
      this.sink.done(status, { jsonrpc: '2.0', id: this.req.id, error });
      return;
    }
    const cacheable = CACHEABLE.has(this.req.method);
    if (!cacheable) {
      const own = line === undefined ? undefined : resultText(line, this.childId!, r);
      const text = completeAnswer(this.req.id, r.result, this.child.serverInfoJson, own);
      if (text !== undefined) {
        if (!this.sink.observing) return this.sink.done(200, undefined, text);
        // The child's result is ours (just parsed) and already serialised: the observed message adds to it in place.
        const result = r.result;
        result.resultType = 'complete';
        result._meta = { [META.serverInfo]: this.serverInfo };
        return this.sink.done(200, { jsonrpc: '2.0', id: this.req.id, result }, text);
      }
    }
    this.sink.done(200, this.complete(r.result, cacheable));
  }

  /** Whether the caller hands the answer to a 2025 client ({@link RELAYS_TO_2025_META}). */
  private relaysTo2025(): boolean {
    const meta = this.req.params._meta as Record<string, unknown> | undefined;
    return meta?.[RELAYS_TO_2025_META] === true;
  }

  /**
   * The child's `-32042` (2025-11-25 URL elicitation required), which 2026-07-28 has no more: the
   * client is asked to have the user open each page (URL-mode `elicitation/create` input requests,
   * `input_required`), with a `requestState` whose retry replays the call as any other MRTR
   * retry does. A client that did not declare `elicitation.url` gets `-32021` (HTTP 400); a
   * method without input requests, or no page to open, gets an error ({@link urlElicitationError}).
   */
  private urlElicitation(error: Record<string, unknown>): void {
    const pages = urlPagesOf(error.data);
    if (pages.length === 0 || !MRTR_METHODS.has(this.req.method)) {
      const refusal = urlElicitationError(this.req.method, error, pages);
      return this.sink.done(200, { jsonrpc: '2.0', id: this.req.id, error: refusal });
    }
    if (this.lacking('elicitation', { mode: 'url' })) {
      return this.sink.done(400, {
        jsonrpc: '2.0',
        id: this.req.id,
        error: {
          code: JsonRpcCode.MissingRequiredClientCapability,
          message: `Missing required client capability: elicitation (url mode), to have you open ${pages.map((p) => p.url).join(', ')}`,
          data: { requiredCapabilities: URL_ELICITATION_CAPABILITY },
        },
      });
    }
    const inputRequests = urlInputRequests(pages, (k) => this.steps.some((s) => s?.k === k));
    this.sink.done(200, this.inputRequired(inputRequests, Object.keys(inputRequests)));
  }

  /** The complete answer to the request: `result` with `resultType`, the server's info and any caching hints. */
  private complete(r: Record<string, unknown>, cacheable = false): Record<string, unknown> {
    const result: Record<string, unknown> = { ...r, resultType: 'complete' };
    const meta = typeof result._meta === 'object' && result._meta !== null ? result._meta : {};
    result._meta = { ...meta, [META.serverInfo]: this.serverInfo };
    if (cacheable) {
      // MRTR retries must not be cached (SEP-2549).
      result.ttlMs = this.retry ? 0 : this.ctx.listTtlMs;
      result.cacheScope = 'private';
    }
    return { jsonrpc: '2.0', id: this.req.id, result };
  }

  /** A child message during the call (the lease's {@link ChildLease.fromChild}). */
  fromChild(c: Classified): void {
    if (this.finished) return;
    if (c.kind === 'notification') {
      const params = (c.msg.params ?? {}) as Record<string, unknown>;
      if (c.method === 'notifications/progress') {
        const token = (this.req.params._meta as Record<string, unknown> | undefined)?.progressToken;
        if (token === undefined || params.progressToken !== (this.childToken ?? token)) return;
        this.arm(this.ctx.requestTimeoutMs);
        // The client gets its own token back.
        const msg =
          this.childToken === undefined ? c.msg : { ...c.msg, params: { ...params, progressToken: token } };
        this.sink.notify(msg);
      } else if (c.method === 'notifications/message') {
        if (logLevelAllows(this.req.logLevel, params.level)) this.sink.notify(c.msg);
      } else this.ctx.onUnrouted(this.child.user, c, this.child);
      return;
    }
    if (c.kind !== 'request') return;
    const capability = INPUT_CAPABILITY[c.method];
    if (c.method === 'ping') return this.child.respond(c.id, { result: {} });
    if (!capability || !MRTR_METHODS.has(this.req.method)) {
      return this.child.respond(c.id, {
        error: {
          code: JsonRpcCode.MethodNotFound,
          message: `${c.method} is not available during ${this.req.method}`,
        },
      });
    }
    this.input(c.id, c.method, capability, (c.msg.params ?? {}) as Record<string, unknown>);
  }

  /** The child asks the client something: answer from the retry's inputs, or ask with `input_required`. */
  private input(
    childReqId: JsonRpcId,
    method: string,
    capability: string,
    params: Record<string, unknown>,
  ): void {
    const fail = (status: number, code: number, message: string, data?: unknown) => {
      (this.waiting ??= []).push(childReqId);
      this.stop('input unavailable');
      this.sink.done(status, {
        jsonrpc: '2.0',
        id: this.req.id,
        error: { code, message, ...(data === undefined ? {} : { data }) },
      });
    };
    const lacking = this.lacking(capability, params);
    if (lacking) {
      // Never asked: the child is refused, as a 2025 client without the capability would refuse it.
      // If the call then fails, the client learns what it lacked (-32021, see `answered`).
      const refused = (this.refused ??= {});
      refused[capability] = { ...refused[capability], ...lacking };
      const modes = Object.keys(lacking);
      const what = modes.length === 0 ? capability : `${capability} (${modes.join(', ')} mode)`;
      return this.child.respond(childReqId, {
        error: {
          code: JsonRpcCode.MissingRequiredClientCapability,
          message: `Missing required client capability: ${what} (the client did not declare it)`,
          data: { requiredCapabilities: { [capability]: lacking } },
        },
      });
    }
    const n = this.asked++;
    const d = digestOf(params, ['_meta']);
    const known = this.steps[n];
    if (this.steps === NO_STEPS) this.steps = [];
    if (known && (known.m !== method || known.d !== d)) {
      return fail(
        200,
        JsonRpcCode.InternalError,
        `The MCP server asked for different input when the request was retried (${method} instead of ${known.m}); send the request again without requestState`,
      );
    }
    if (known?.r !== undefined)
      return this.child.respond(childReqId, { result: known.r as Record<string, unknown> });
    const step: InputStep = known ?? { k: this.keyFor(params, n), m: method, d };
    this.steps[n] = step;
    // An input the client already answered under its key (a retry without requestState, or a new step).
    let r: unknown;
    try {
      r = this.answerFor(step);
    } catch (err) {
      if (!(err instanceof BridgeHttpError)) throw err;
      return fail(err.status, err.code, err.message);
    }
    if (r !== undefined) {
      this.steps[n] = { ...step, r };
      return this.child.respond(childReqId, { result: r as Record<string, unknown> });
    }
    (this.waiting ??= []).push(childReqId);
    (this.asking ??= {})[step.k] = { method, params: withoutInputKey(params) };
    // Requests the child makes together (Promise.all) are asked together: wait a moment for more.
    if (!this.askTimer) {
      this.askTimer = setTimeout(() => this.askClient(), INPUT_BATCH_MS);
      this.askTimer.unref();
    }
  }

  /**
   * What the request's client would have to declare for the child's request needing `capability`
   * and did not: `{}` when the capability itself is missing; for `elicitation`, the mode asked
   * (`form` when none is named) unless declared, where `elicitation: {}` declares `form` alone
   * (client/elicitation, "Capabilities"). `undefined`: the client can be asked.
   */
  private lacking(capability: string, params: Record<string, unknown>): Record<string, object> | undefined {
    const declared = this.req.clientCapabilities[capability];
    if (declared === undefined) return {};
    if (capability !== 'elicitation') return undefined;
    const mode = typeof params.mode === 'string' ? params.mode : 'form';
    const modes =
      typeof declared === 'object' && declared !== null && ('form' in declared || 'url' in declared)
        ? declared
        : { form: {} };
    return Object.hasOwn(modes, mode) ? undefined : { [mode]: {} };
  }

  /** The `inputResponses` entry for `step`, if any; not an object is -32602. */
  private answerFor(step: InputStep): Record<string, unknown> | undefined {
    const r = this.given && Object.hasOwn(this.given, step.k) ? this.given[step.k] : undefined;
    if (r === undefined) return undefined;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidParams,
        `Invalid params: inputResponses.${step.k} must be an object (the ${step.m} result)`,
        {},
        this.req.id,
      );
    }
    return r as Record<string, unknown>;
  }

  /** The key the child named ({@link INPUT_KEY_META}) when usable, else `input-<n>`. */
  private keyFor(params: Record<string, unknown>, n: number): string {
    const meta = params._meta as Record<string, unknown> | undefined;
    const named = typeof meta === 'object' && meta !== null ? meta[INPUT_KEY_META] : undefined;
    const taken = (k: string) => this.steps.some((s) => s?.k === k) || this.urlKeys.includes(k);
    if (typeof named === 'string' && INPUT_KEY.test(named) && !taken(named)) return named;
    return `input-${n}`;
  }

  /** Answers `input_required` with every input the child is waiting for, and a state for the retry. */
  private askClient(): void {
    if (this.finished) return;
    const answer = this.inputRequired(this.asking ?? {});
    this.stop('input required');
    this.sink.done(200, answer);
  }

  /**
   * The `input_required` answer asking `inputRequests`, with a signed state holding the child's
   * requests so far and the keys of any pages asked to open (`urlKeys`).
   */
  private inputRequired(inputRequests: Record<string, unknown>, urlKeys?: string[]): Record<string, unknown> {
    const requestState = this.ctx.codec.sign({
      u: this.child.user,
      exp: this.ctx.clock.now() + this.ctx.requestStateTtlMs,
      m: this.req.method,
      d: this.digest,
      s: this.steps.slice(0, this.asked),
      ...(urlKeys === undefined ? {} : { x: urlKeys }),
    });
    return {
      jsonrpc: '2.0',
      id: this.req.id,
      result: {
        resultType: 'input_required',
        inputRequests,
        requestState,
        _meta: { [META.serverInfo]: this.serverInfo },
      },
    };
  }

  /**
   * (Re)sets the deadline: `ms` from now, never past `maxRequestTimeoutMs`
   * after the start. The shared ticker checks it (per call: a number, no timer).
   */
  private arm(ms: number): void {
    if (ms <= 0) return;
    const now = this.ctx.clock.now();
    const left = this.started + Math.max(this.ctx.maxRequestTimeoutMs, ms) - now;
    this.deadline = now + Math.max(0, Math.min(ms, left));
  }

  private timedOut(): void {
    if (this.finished) return;
    this.ctx.logger.warn('modern request timed out', {
      method: this.req.method,
      pid: this.child.process.pid,
    });
    this.stop(TIMED_OUT);
    this.sink.done(200, { jsonrpc: '2.0', id: this.req.id, error: timeoutError() });
  }

  /**
   * Ends the call's hold on the child. With a `reason`, the child's request
   * is cancelled (`notifications/cancelled`) and a pending server→client
   * request of the child is answered with an error; the child goes back to
   * the pool either way.
   */
  private stop(reason: string | undefined): void {
    this.finished = true;
    this.ctx.ticker.delete(this);
    clearTimeout(this.askTimer);
    this.child.detach(this);
    if (this.childToken !== undefined) this.child.progressRoutes.delete(this.childToken);
    if (reason !== undefined && this.childId !== undefined) {
      for (const id of this.waiting?.splice(0) ?? []) {
        this.child.respond(id, {
          error: { code: JsonRpcCode.InternalError, message: `Request ended: ${reason}` },
        });
      }
      this.child.notify('notifications/cancelled', { requestId: this.childId, reason });
      this.child.forget(this.childId);
    }
    this.release(this.child, reason !== TIMED_OUT, this.shared);
  }
}
