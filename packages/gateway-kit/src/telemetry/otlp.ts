import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Where and how the providers export. */
export interface OtlpTarget {
  /** OTLP/HTTP base URL without a trailing slash (`/v1/traces`, `/v1/metrics` are added). */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  serviceVersion: string;
  metricsIntervalMs: number;
}

/**
 * Tracer and meter providers of the official JS SDK exporting by OTLP/HTTP.
 * Its own module: the SDK and exporters are some 300 files, loaded only when
 * an endpoint is configured (every CLI command and most gateways never need them).
 */
export function otlpProviders(target: OtlpTarget): { tracers: BasicTracerProvider; meters: MeterProvider } {
  const resource = resourceFromAttributes({
    'service.name': target.serviceName,
    'service.version': target.serviceVersion,
  });
  const { endpoint, headers } = target;
  const tracers = new BasicTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces`, headers })),
    ],
  });
  const meters = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics`, headers }),
        exportIntervalMillis: target.metricsIntervalMs,
      }),
    ],
  });
  return { tracers, meters };
}
