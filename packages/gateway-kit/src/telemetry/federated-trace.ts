/**
 * Traces of federated endpoint requests, the service route's trace
 * ({@link McpRequestTrace}) named after the endpoint: one `SERVER` span per
 * request (`mcp.gateway.endpoint`; for a routed request also the member's
 * `mcp.gateway.service` and its own tool or prompt name), an `INTERNAL` child
 * span per member request ({@link MemberTrace}), under which the member's
 * backend puts its own hops (the bridge round trip, the upstream HTTP call)
 * and from which the trace context travels on. Made only when telemetry is on.
 */
import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  defaultTextMapSetter,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { RequestInfo } from '../http/node.js';
import { McpRequestTrace, startHop, type HopTracer, type TracedHop } from './mcp-trace.js';
import { outcomeOf } from './outcome.js';
import type { Telemetry } from './telemetry.js';

/** A member's answer as the endpoint sees it (`MemberReply`). */
type Reply = { result: Record<string, unknown> } | { error: { code: number; message: string } };

/** The trace of one request to the federated endpoint at `endpoint` (its local path). */
export function federatedTrace(t: Telemetry, endpoint: string, request: Request): McpRequestTrace {
  return McpRequestTrace.begin(t, endpoint, request, { 'mcp.gateway.endpoint': endpoint });
}

/**
 * One member request of a federated request: a child span of the request's,
 * and the {@link HopTracer} its backend gets.
 */
export class MemberTrace implements HopTracer {
  private readonly span: Span;
  private readonly ctx: Context;
  private readonly hops = new Set<TracedHop>();
  private ended = false;

  constructor(
    private readonly t: Telemetry,
    parent: McpRequestTrace,
    service: string,
    method: string,
  ) {
    const attributes: Attributes = {
      'mcp.gateway.service': service,
      'mcp.method.name': method,
    };
    this.span = t.tracer.startSpan(
      `mcp.federated.member ${method}`,
      { kind: SpanKind.INTERNAL, attributes },
      parent.spanContext,
    );
    this.ctx = trace.setSpan(parent.spanContext, this.span);
  }

  get sampled(): boolean {
    return (this.span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
  }

  hop(name: string, attributes: Attributes = {}): TracedHop {
    return startHop(this.t, this.ctx, this.hops, name, attributes);
  }

  get context(): Readonly<Record<string, string>> {
    const carrier: Record<string, string> = {};
    this.t.propagator.inject(this.ctx, carrier, defaultTextMapSetter);
    return carrier;
  }

  /** Ends the span (once) with the member's answer; hops still open end with it. */
  end(reply: Reply): void {
    if (this.ended) return;
    this.ended = true;
    const outcome = outcomeOf(reply, 200);
    if (outcome.rpcCode !== undefined) this.span.setAttribute('rpc.response.status_code', outcome.rpcCode);
    if (outcome.errorType) {
      this.span.setAttribute('error.type', outcome.errorType);
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    for (const hop of [...this.hops]) hop.end(outcome.errorType ? { error: outcome.errorType } : {});
    this.span.end();
  }
}

/**
 * The answer `res` of a traced federated request: a refusal or a JSON answer ends the
 * span now; an event stream (a session's `GET` stream, `subscriptions/listen`)
 * ends it when the stream ends or the client goes away mid-stream.
 */
export function tracedAnswer(trace: McpRequestTrace, res: Response, info: RequestInfo): Response {
  // A batch: each message had its own span.
  if (trace.forgone) return res;
  // Refused before its message was read (origin, token, no member, a body that is not one message).
  if (!trace.opened) return trace.refused(res);
  const answered = trace.answered(res);
  if (!res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
    trace.ended();
    return answered;
  }
  const end = () => trace.ended();
  info.signal?.addEventListener('abort', end, { once: true });
  const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: end }));
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
