import { z } from 'zod';

/** Defaults of the `telemetry` section. */
export const TELEMETRY_DEFAULTS = {
  serviceName: 'mcp-gateway',
  captureArguments: false,
  metricsInterval: 60,
  headers: {} as Record<string, string>,
};

/**
 * `telemetry`: OpenTelemetry traces and metrics (the official JS SDK),
 * exported by OTLP/HTTP when `endpoint` is set; off otherwise.
 */
export const telemetrySchema = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'OTLP/HTTP base URL of a collector, e.g. http://otel-collector:4318 (traces go to /v1/traces, metrics to /v1/metrics, as JSON). Unset: nothing is exported.',
      ),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string())
      .default(TELEMETRY_DEFAULTS.headers)
      .describe('Headers sent with every export (e.g. an API key of a hosted collector).'),
    serviceName: z
      .string()
      .min(1)
      .default(TELEMETRY_DEFAULTS.serviceName)
      .describe('`service.name` of the spans.'),
    captureArguments: z
      .boolean()
      .default(TELEMETRY_DEFAULTS.captureArguments)
      .describe('Record tool-call arguments on spans (off by default: arguments can hold personal data).'),
    metricsInterval: z
      .number()
      .int()
      .min(1)
      .default(TELEMETRY_DEFAULTS.metricsInterval)
      .describe('Seconds between metric exports.'),
  })
  .default(TELEMETRY_DEFAULTS);

export type TelemetryConfig = z.output<typeof telemetrySchema>;
