import { ROOT_CONTEXT, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import type { FetchObserver } from '@mcp-gateway/fetch-server';
import { endHop, metaGetter } from './mcp-trace.js';
import type { Telemetry } from './telemetry.js';

/** Longest URL recorded on a fetch span (with `captureArguments`). */
const MAX_URL_CHARS = 2048;

/**
 * The built-in fetch service's outgoing requests as `CLIENT` spans (`GET`),
 * children of the trace context the gateway put in the MCP request's
 * `params._meta`; a request without one is not traced. The URL is the tool's
 * argument: recorded (`url.full`) only with `captureArguments`.
 */
export function fetchSpans(t: Telemetry, service: string): FetchObserver {
  return (meta, url) => {
    if (typeof meta?.traceparent !== 'string') return undefined;
    const parent = t.propagator.extract(ROOT_CONTEXT, meta, metaGetter);
    if (!trace.getSpanContext(parent)) return undefined;
    const attributes: Attributes = { 'http.request.method': 'GET', 'mcp.gateway.service': service };
    if (t.settings.captureArguments) attributes['url.full'] = url.slice(0, MAX_URL_CHARS);
    const span = t.tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes }, parent);
    return (outcome) => endHop(span, outcome);
  };
}
