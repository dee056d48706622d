import { listen, type Listening } from './listen.js';

/** One span as an OTLP/HTTP JSON export carried it, flattened for assertions. */
export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  /** `''` for a root span. */
  parentSpanId: string;
  /** OTLP `SpanKind` number (1 internal, 2 server, 3 client). */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code (0 unset, 1 ok, 2 error). */
  status: number;
  /** `service.name` of the exporting resource. */
  service: string;
}

/** A test stand-in for an OpenTelemetry collector: an OTLP/HTTP JSON receiver on 127.0.0.1. */
export interface OtlpReceiver extends Listening {
  /** The base URL to configure as the OTLP endpoint (`/v1/traces`, `/v1/metrics` are served below it). */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Metric names received so far. */
  metrics: Set<string>;
  /** Every data point received: its metric's name and its attributes (one entry per series and export). */
  points: { metric: string; attributes: Record<string, string | number | boolean> }[];
  /** Resolves with the spans once `predicate` holds for the spans received (checked on each export). */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
type KeyValue = { key: string; value: AnyValue };
/** A span of an OTLP/HTTP JSON export (ids are hex strings in the JSON encoding). */
type OtlpSpan = {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  kind?: number;
  attributes?: KeyValue[];
  status?: { code?: number };
};

const valueOf = (v: AnyValue): string | number | boolean =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? ''));

const attrs = (list: KeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

/** Starts an OTLP/HTTP receiver that accepts JSON exports of traces and metrics. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics = new Set<string>();
  const points: OtlpReceiver['points'] = [];
  const waiters: { predicate: (s: ReceivedSpan[]) => boolean; resolve: (s: ReceivedSpan[]) => void }[] = [];
  const notify = () => {
    for (const w of [...waiters]) {
      if (!w.predicate(spans)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(spans);
    }
  };
  const server = await listen(async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method !== 'POST') return new Response(null, { status: 405 });
    if (!(request.headers.get('content-type') ?? '').includes('json'))
      return new Response('JSON exports only', { status: 415 });
    const body = (await request.json()) as Record<string, unknown>;
    if (path === '/v1/traces') {
      for (const rs of (body.resourceSpans ?? []) as {
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: { spans?: OtlpSpan[] }[];
      }[]) {
        const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              name: s.name,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              kind: s.kind ?? 0,
              attributes: attrs(s.attributes),
              status: s.status?.code ?? 0,
              service,
            });
      }
      notify();
    } else if (path === '/v1/metrics') {
      type Metric = { name: string } & Record<
        string,
        { dataPoints?: { attributes?: KeyValue[] }[] } | string
      >;
      for (const rm of (body.resourceMetrics ?? []) as { scopeMetrics?: { metrics?: Metric[] }[] }[])
        for (const sm of rm.scopeMetrics ?? [])
          for (const m of sm.metrics ?? []) {
            metrics.add(m.name);
            for (const data of Object.values(m))
              if (typeof data === 'object')
                for (const p of data.dataPoints ?? [])
                  points.push({ metric: m.name, attributes: attrs(p.attributes) });
          }
    } else return new Response(null, { status: 404 });
    return Response.json({});
  });
  return {
    ...server,
    endpoint: server.url,
    spans,
    metrics,
    points,
    waitForSpans: (predicate) =>
      new Promise((resolve) => {
        if (predicate(spans)) return resolve(spans);
        waiters.push({ predicate, resolve });
      }),
  };
}
