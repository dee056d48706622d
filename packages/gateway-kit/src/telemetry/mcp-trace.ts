import {
  context as contexts,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
} from '@opentelemetry/api';
import type { Telemetry } from './telemetry.js';

/** What the MCP route knows of one request when it starts. */
export interface McpRequestFacts {
  /** The JSON-RPC method (`tools/call`, …); `undefined` for a GET stream or a DELETE. */
  method: string | undefined;
  service: string;
  /** `params.name` of a `tools/call`. */
  tool?: string | undefined;
  /** The caller's immutable user id. */
  user: string;
  clientId?: string | undefined;
  protocolVersion?: string | undefined;
  sessionId?: string | undefined;
  requestId?: string | number | undefined;
  /** `params.arguments` of a `tools/call`: recorded only with `captureArguments`. */
  arguments?: unknown;
}

/** MCP methods recorded by name in metrics; any other becomes `other` (clients choose method strings). */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'subscriptions/listen',
  'notifications/initialized',
  'notifications/cancelled',
]);

/** Longest tool-call arguments recorded on a span (with `captureArguments`). */
const MAX_ARGUMENT_CHARS = 4096;

const durations = new WeakMap<Telemetry, Histogram>();

/** The `mcp.server.operation.duration` histogram of `t` (one per telemetry). */
function durationHistogram(t: Telemetry): Histogram {
  let h = durations.get(t);
  if (!h) {
    h = t.meter.createHistogram('mcp.server.operation.duration', {
      description: 'Duration of MCP requests through the gateway',
      unit: 's',
    });
    durations.set(t, h);
  }
  return h;
}

/**
 * The trace of one MCP request through the gateway: a server span named
 * after the method (and tool) with the OpenTelemetry MCP attributes, the
 * service and the user id (never arguments unless `captureArguments`),
 * continuing the client's W3C trace context; child spans for the hops
 * behind it (the bridge round trip, the upstream HTTP call), whose context
 * the gateway passes on (`traceparent` headers, `_meta`).
 */
export class McpRequestTrace {
  private readonly started = performance.now();
  private ended = false;

  private constructor(
    private readonly t: Telemetry,
    readonly span: Span,
    private readonly ctx: Context,
    private readonly metricAttributes: Attributes,
  ) {}

  /** Starts the span of a request whose headers are `headers`. */
  static start(t: Telemetry, facts: McpRequestFacts, headers: Headers): McpRequestTrace {
    const parent = t.propagator.extract(ROOT_CONTEXT, headers, {
      get: (carrier: Headers, key) => carrier.get(key) ?? undefined,
      keys: () => ['traceparent', 'tracestate'],
    });
    const method = facts.method ?? 'stream';
    const attributes: Attributes = {
      'mcp.method.name': method,
      'mcp.gateway.service': facts.service,
      'enduser.id': facts.user,
    };
    if (facts.tool !== undefined) {
      attributes['gen_ai.tool.name'] = facts.tool;
      attributes['gen_ai.operation.name'] = 'execute_tool';
    }
    if (facts.clientId) attributes['mcp.gateway.client_id'] = facts.clientId;
    if (facts.protocolVersion) attributes['mcp.protocol.version'] = facts.protocolVersion;
    if (facts.sessionId) attributes['mcp.session.id'] = facts.sessionId;
    if (facts.requestId !== undefined) attributes['jsonrpc.request.id'] = String(facts.requestId);
    if (t.settings.captureArguments && facts.arguments !== undefined)
      attributes['gen_ai.tool.call.arguments'] = JSON.stringify(facts.arguments).slice(0, MAX_ARGUMENT_CHARS);
    const name = facts.tool !== undefined ? `${method} ${facts.tool}` : method;
    const span = t.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    return new McpRequestTrace(t, span, trace.setSpan(parent, span), {
      'mcp.method.name': KNOWN_METHODS.has(method) ? method : 'other',
      'mcp.gateway.service': facts.service,
    });
  }

  /** A child span for a hop behind the gateway (`mcp.bridge`, `mcp.upstream`); end it when the hop answers. */
  hop(name: string, attributes: Attributes = {}): Span {
    return this.t.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, this.ctx);
  }

  /** The W3C trace context (`traceparent`, maybe `tracestate`) to send with a hop's request. */
  carrier(hop?: Span): Record<string, string> {
    const out: Record<string, string> = {};
    const ctx = hop ? trace.setSpan(this.ctx, hop) : this.ctx;
    this.t.propagator.inject(ctx, out, defaultTextMapSetter);
    return out;
  }

  /** Runs `fn` with this request's span as the active context. */
  within<T>(fn: () => T): T {
    return contexts.with(this.ctx, fn);
  }

  /** Ends the span with the HTTP status the client got (and the error, when one was thrown). */
  end(status: number, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('http.response.status_code', status);
    const failed = status >= 500 || error !== undefined;
    if (failed) {
      this.span.setAttribute('error.type', error ?? String(status));
      this.span.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: error } : {}) });
    }
    this.span.end();
    durationHistogram(this.t).record((performance.now() - this.started) / 1000, {
      ...this.metricAttributes,
      ...(failed ? { 'error.type': error ? 'error' : String(status) } : {}),
    });
  }
}
