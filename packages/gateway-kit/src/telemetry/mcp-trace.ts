import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  defaultTextMapSetter,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import type { ReplyWatcher } from '../gateway/reply-tap.js';
import type { Identity } from '../identity.js';
import { requestEra } from '../protocol-version.js';
import { durationHistogram, metricMethod, outcomeOf, type Outcome } from './outcome.js';
import type { Telemetry } from './telemetry.js';

/** A JSON-RPC message of a request body, as the MCP route parsed it. */
export interface TracedMessage {
  id?: unknown;
  method?: unknown;
  params?: { name?: unknown; arguments?: unknown; _meta?: unknown; protocolVersion?: unknown } | null;
}

/** One hop behind the gateway (the bridge round trip, the upstream HTTP call), as a child span. */
export interface TracedHop {
  /** The hop span's W3C trace context (`traceparent`, maybe `tracestate`), to send with its request. */
  readonly carrier: Readonly<Record<string, string>>;
  /** Ends the hop's span with the HTTP status the hop answered, or the error it failed with. */
  end(outcome?: { status?: number; error?: string }): void;
}

/** What a backend gets to trace its hops: present only when telemetry is on. */
export interface HopTracer {
  /** True when the request's span is sampled: only then is a body rewritten to carry `_meta`. */
  readonly sampled: boolean;
  /** Starts a child span of the request's span (kind `CLIENT`). */
  hop(name: string, attributes?: Attributes): TracedHop;
  /** The request span's own W3C trace context, for an in-process service that makes its own child spans. */
  readonly context: Readonly<Record<string, string>>;
}

/** Longest tool-call arguments recorded on a span (with `captureArguments`). */
const MAX_ARGUMENT_CHARS = 4096;

const headerGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: () => ['traceparent', 'tracestate'],
};

/** Reads W3C trace context from a `params._meta` object (SEP-414 keys). */
export const metaGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  get: (carrier, key) => (typeof carrier[key] === 'string' ? carrier[key] : undefined),
  keys: (carrier) => Object.keys(carrier),
};

/**
 * The trace of one MCP request (one POST's JSON-RPC message, a GET stream or
 * a DELETE) through the gateway: a `SERVER` span named after the method (and
 * tool), with service, user id, protocol era and version and the outcome
 * (result, JSON-RPC error code, tool error or HTTP status), never arguments
 * unless `captureArguments`; `CLIENT` child spans for the hops behind it. The
 * parent is the client's trace context: `params._meta.traceparent` (SEP-414)
 * or else the `traceparent` header. Made only when telemetry is on; the
 * `mcp.server.operation.duration` histogram gets one point per request.
 */
export class McpRequestTrace implements HopTracer, ReplyWatcher {
  private readonly started = performance.now();
  private readonly startTime = Date.now();
  private span: Span | undefined;
  private ctx: Context = ROOT_CONTEXT;
  private metricMethod: string;
  /** The id of the request whose answer ends the span; `undefined`: the HTTP answer ends it. */
  private awaited: unknown;
  private reply: Readonly<Record<string, unknown>> | undefined;
  private status: number | undefined;
  private tools: ReplyWatcher | undefined;
  private readonly hops = new Set<TracedHop>();
  private finished = false;

  private constructor(
    private readonly t: Telemetry,
    private readonly service: string,
    private readonly request: Request,
    private readonly scope: Attributes,
  ) {
    this.metricMethod = metricMethod(request.method);
  }

  /**
   * Begins the trace of `request` to `service` (its span starts when admission has read the
   * body). `scope`: the attributes naming what was asked, by default `mcp.gateway.service`
   * (a federated endpoint names itself with `mcp.gateway.endpoint`); `service` labels the metric.
   */
  static begin(
    t: Telemetry,
    service: string,
    request: Request,
    scope: Attributes = { 'mcp.gateway.service': service },
  ): McpRequestTrace {
    return new McpRequestTrace(t, service, request, scope);
  }

  /** True when the request's messages are traced one span each instead ({@link forgo}). */
  forgone = false;

  /** The request gets no span of its own: its messages get one each (a 2025-03-26 batch to a federated endpoint). */
  forgo(): void {
    this.forgone = true;
    this.finished = true;
  }

  /** True once the request's span was started (by {@link admitted} or {@link refused}). */
  get opened(): boolean {
    return this.span !== undefined;
  }

  /** The request span's context (its children's parent). */
  get spanContext(): Context {
    return this.ctx;
  }

  /** Adds attributes learnt while serving (e.g. the member a federated call was routed to). */
  annotate(attributes: Attributes): void {
    this.span?.setAttributes(attributes);
  }

  /** The request's reply, when it is known before its HTTP answer (an answer built in the gateway). */
  replied(reply: Readonly<Record<string, unknown>>): void {
    this.reply ??= reply;
  }

  get sampled(): boolean {
    return this.span !== undefined && (this.span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
  }

  /** Admission refused the request: its span names the HTTP method and ends with `res`'s status. */
  refused(res: Response): Response {
    this.open(this.request.method, {}, this.parentOf(undefined));
    return this.answered(res);
  }

  /** Admission let `identity` through with `messages` (the POST body's; none for GET/DELETE). */
  admitted(identity: Identity, messages: readonly TracedMessage[], json: unknown): void {
    const first = messages[0];
    const method = typeof first?.method === 'string' ? first.method : undefined;
    const header = (name: string) => this.request.headers.get(name);
    const attributes: Attributes = {
      'enduser.id': identity.sub,
      'mcp.gateway.protocol_era': requestEra(json, header('mcp-protocol-version'), header('mcp-session-id')),
    };
    if (identity.clientId) attributes['mcp.gateway.client_id'] = identity.clientId;
    const version = protocolVersionOf(first, header('mcp-protocol-version'));
    if (version) attributes['mcp.protocol.version'] = version;
    const session = header('mcp-session-id');
    if (session) attributes['mcp.session.id'] = session;
    if (messages.length > 1) attributes['mcp.gateway.batch_size'] = messages.length;
    let name = method ?? this.request.method;
    if (method) {
      attributes['mcp.method.name'] = method;
      this.metricMethod = metricMethod(method);
      const id = first?.id;
      if (typeof id === 'string' || typeof id === 'number') {
        attributes['jsonrpc.request.id'] = String(id);
        this.awaited = id;
      }
      const target = first?.params?.name;
      if (typeof target === 'string' && (method === 'tools/call' || method === 'prompts/get')) {
        name = `${method} ${target}`;
        attributes[method === 'tools/call' ? 'gen_ai.tool.name' : 'gen_ai.prompt.name'] = target;
        if (method === 'tools/call') attributes['gen_ai.operation.name'] = 'execute_tool';
      }
      const args = first?.params?.arguments;
      if (this.t.settings.captureArguments && method === 'tools/call' && args !== undefined)
        attributes['gen_ai.tool.call.arguments'] = JSON.stringify(args).slice(0, MAX_ARGUMENT_CHARS);
    }
    this.open(name, attributes, this.parentOf(first));
  }

  /** The observer to hand the backend: this trace's, also telling `tools` (the tool-call metrics) of each reply. */
  watch(tools: ReplyWatcher | undefined): ReplyWatcher {
    this.tools = tools;
    return this;
  }

  hop(name: string, attributes: Attributes = {}): TracedHop {
    return startHop(this.t, this.ctx, this.hops, name, attributes);
  }

  get context(): Readonly<Record<string, string>> {
    const carrier: Record<string, string> = {};
    this.t.propagator.inject(this.ctx, carrier, defaultTextMapSetter);
    return carrier;
  }

  get satisfied(): boolean {
    return (this.finished || this.awaited === undefined) && (this.tools?.satisfied ?? true);
  }

  onResponse(message: Readonly<Record<string, unknown>>): void {
    if (this.tools && !this.tools.satisfied) this.tools.onResponse(message);
    if (this.reply || this.awaited === undefined || message.id !== this.awaited) return;
    if (!('result' in message || 'error' in message)) return;
    this.reply = message;
    if (this.status !== undefined) this.finish();
  }

  ended(): void {
    this.tools?.ended?.();
    this.finish();
  }

  /**
   * The HTTP answer the client gets: ends the span now unless a reply to the
   * request is still to come on its stream (then the reply, or the stream's end, does).
   */
  answered(res: Response): Response {
    this.status = res.status;
    const waiting = this.awaited !== undefined && !this.reply && res.status === 200 && res.body !== null;
    if (!waiting) this.finish();
    return res;
  }

  private parentOf(first: TracedMessage | undefined): Context {
    const meta = first?.params?._meta;
    if (typeof meta === 'object' && meta !== null && 'traceparent' in meta)
      return this.t.propagator.extract(ROOT_CONTEXT, meta, metaGetter);
    return this.t.propagator.extract(ROOT_CONTEXT, this.request.headers, headerGetter);
  }

  private open(name: string, attributes: Attributes, parent: Context): void {
    Object.assign(attributes, this.scope);
    attributes['http.request.method'] = this.request.method;
    const options = { kind: SpanKind.SERVER, attributes, startTime: this.startTime };
    this.span = this.t.tracer.startSpan(name, options, parent);
    this.ctx = trace.setSpan(parent, this.span);
  }

  /** Ends the span (once) with the outcome, ends hops still open, records the duration. */
  private finish(): void {
    if (this.finished || !this.span) return;
    this.finished = true;
    const outcome: Outcome = outcomeOf(this.reply, this.status ?? 0);
    const span = this.span;
    if (this.status !== undefined) span.setAttribute('http.response.status_code', this.status);
    if (outcome.rpcCode !== undefined) span.setAttribute('rpc.response.status_code', outcome.rpcCode);
    if (outcome.resultType) span.setAttribute('mcp.gateway.result_type', outcome.resultType);
    if (outcome.errorType) {
      span.setAttribute('error.type', outcome.errorType);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        ...(outcome.message ? { message: outcome.message } : {}),
      });
    }
    for (const hop of [...this.hops]) hop.end(outcome.errorType ? { error: outcome.errorType } : {});
    span.end();
    durationHistogram(this.t).record((performance.now() - this.started) / 1000, {
      'mcp.method.name': this.metricMethod,
      'mcp.gateway.service': this.service,
      'mcp.gateway.outcome': outcome.kind,
    });
  }
}

/**
 * Starts a hop: a `CLIENT` child span of `parent`, kept in `open` until it ends, with the
 * W3C trace context to send along.
 */
export function startHop(
  t: Telemetry,
  parent: Context,
  open: Set<TracedHop>,
  name: string,
  attributes: Attributes,
): TracedHop {
  const span = t.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  const carrier: Record<string, string> = {};
  t.propagator.inject(trace.setSpan(parent, span), carrier, defaultTextMapSetter);
  const hop: TracedHop = {
    carrier,
    end(outcome = {}) {
      if (open.delete(hop)) endHop(span, outcome);
    },
  };
  open.add(hop);
  return hop;
}

/** Ends a hop's span with the HTTP status the hop answered, or the error it failed with. */
export function endHop(span: Span, outcome: { status?: number; error?: string }): void {
  if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
  const error = outcome.error ?? (outcome.status && outcome.status >= 400 ? String(outcome.status) : '');
  if (error) {
    span.setAttribute('error.type', error);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** The MCP revision a request names: its header, its `_meta` claim (2026), or `initialize`'s `protocolVersion`. */
function protocolVersionOf(first: TracedMessage | undefined, header: string | null): string | undefined {
  if (header) return header;
  const meta = first?.params?._meta as Record<string, unknown> | undefined;
  const claimed = meta?.[MCP_META_KEYS.protocolVersion];
  if (typeof claimed === 'string') return claimed;
  const offered = first?.method === 'initialize' ? first.params?.protocolVersion : undefined;
  return typeof offered === 'string' ? offered : undefined;
}
