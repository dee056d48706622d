import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

/** The `telemetry` section of the gateway config, resolved. */
export interface TelemetrySettings {
  /** OTLP/HTTP endpoint base (`…/v1/traces`, `…/v1/metrics` are added); absent: nothing is exported. */
  otlpEndpoint?: string | undefined;
  /** Extra headers for the OTLP requests (e.g. an API key). */
  otlpHeaders: Record<string, string>;
  /** `service.name` of the resource. */
  serviceName: string;
  /** Add tool-call arguments to spans (off: arguments can hold personal data). */
  captureArguments: boolean;
  /** How often metrics are exported, in ms. */
  metricsIntervalMs: number;
}

/**
 * The gateway's OpenTelemetry: its own tracer and meter providers (the
 * official JS SDK), exporting by OTLP/HTTP when an endpoint is configured,
 * no-ops otherwise. Nothing is registered globally, so an application that
 * embeds the gateway keeps its own providers.
 */
export class Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly propagator = new W3CTraceContextPropagator();
  readonly enabled: boolean;

  private constructor(
    readonly settings: TelemetrySettings,
    private readonly tracers: BasicTracerProvider | undefined,
    private readonly meters: MeterProvider | undefined,
  ) {
    this.enabled = tracers !== undefined;
    this.tracer = tracers?.getTracer('mcp-gateway') ?? trace.getTracer('mcp-gateway');
    this.meter = meters?.getMeter('mcp-gateway') ?? metrics.getMeter('mcp-gateway');
  }

  /**
   * Telemetry for `settings`; `version` becomes `service.version`. The OTLP
   * exporters are loaded only when an endpoint is configured.
   */
  static async create(settings: TelemetrySettings, version: string): Promise<Telemetry> {
    const endpoint = settings.otlpEndpoint?.replace(/\/+$/, '');
    if (!endpoint) return new Telemetry(settings, undefined, undefined);
    const { otlpProviders } = await import('./otlp.js');
    const { tracers, meters } = otlpProviders({
      endpoint,
      headers: settings.otlpHeaders,
      serviceName: settings.serviceName,
      serviceVersion: version,
      metricsIntervalMs: settings.metricsIntervalMs,
    });
    return new Telemetry(settings, tracers, meters);
  }

  /** Telemetry that records and exports nothing. */
  static disabled(): Telemetry {
    return new Telemetry(
      { otlpHeaders: {}, serviceName: 'mcp-gateway', captureArguments: false, metricsIntervalMs: 60_000 },
      undefined,
      undefined,
    );
  }

  /** Exports what is buffered now (spans and metrics). */
  async flush(): Promise<void> {
    await Promise.all([this.tracers?.forceFlush(), this.meters?.forceFlush()]);
  }

  /** Flushes and stops exporting. */
  async shutdown(): Promise<void> {
    await Promise.all([this.tracers?.shutdown(), this.meters?.shutdown()]);
  }
}
