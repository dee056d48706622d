import type { Histogram } from '@opentelemetry/api';
import type { Telemetry } from './telemetry.js';

/**
 * Values of the `mcp.method.name` metric label: the MCP methods by name, the
 * HTTP methods of requests without one (a GET stream, a DELETE, a refused
 * request), anything else `other` (clients choose method strings).
 */
const METRIC_METHODS = new Set([
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
  'notifications/progress',
  'notifications/roots/list_changed',
  'GET',
  'POST',
  'DELETE',
]);

/** The bounded metric label of `method`. */
export function metricMethod(method: string): string {
  return METRIC_METHODS.has(method) ? method : 'other';
}

/**
 * The class of a request's outcome, the `mcp.gateway.outcome` metric label:
 * `ok`, `tool_error` (a `tools/call` result with `isError`), `rpc_error` (a
 * JSON-RPC error answer), `refused` (401/403: token, scope, user list),
 * `http_error` (any other HTTP status of 400 or more without a JSON-RPC reply seen).
 */
export type OutcomeKind = 'ok' | 'tool_error' | 'rpc_error' | 'refused' | 'http_error';

/** What a span records of an outcome. */
export interface Outcome {
  kind: OutcomeKind;
  /** `error.type`: the JSON-RPC code, `tool_error` or the HTTP status; absent when it went well. */
  errorType?: string;
  /** `rpc.response.status_code`: the JSON-RPC error code. */
  rpcCode?: string;
  /** The JSON-RPC error's message (the span status description). */
  message?: string;
  /** A 2026-07-28 result's `resultType` other than `complete` (e.g. `input_required`). */
  resultType?: string;
}

/** The outcome of a request answered by `reply` (when one was seen) with HTTP `status`. */
export function outcomeOf(reply: Readonly<Record<string, unknown>> | undefined, status: number): Outcome {
  const error = reply?.error as { code?: unknown; message?: unknown } | undefined;
  if (error && typeof error === 'object') {
    const code = typeof error.code === 'number' ? String(error.code) : 'invalid_error';
    const message = typeof error.message === 'string' ? error.message : undefined;
    return { kind: 'rpc_error', errorType: code, rpcCode: code, ...(message ? { message } : {}) };
  }
  const result = reply?.result as { isError?: unknown; resultType?: unknown } | undefined;
  if (result && typeof result === 'object') {
    const resultType =
      typeof result.resultType === 'string' && result.resultType !== 'complete'
        ? result.resultType
        : undefined;
    const base = resultType ? { resultType } : {};
    return result.isError === true
      ? { kind: 'tool_error', errorType: 'tool_error', ...base }
      : { kind: 'ok', ...base };
  }
  if (status === 401 || status === 403) return { kind: 'refused', errorType: String(status) };
  if (status >= 400 || status === 0) return { kind: 'http_error', errorType: String(status) };
  return { kind: 'ok' };
}

const durations = new WeakMap<Telemetry, Histogram>();

/** The `mcp.server.operation.duration` histogram of `t` (one per telemetry). */
export function durationHistogram(t: Telemetry): Histogram {
  let h = durations.get(t);
  if (!h) {
    h = t.meter.createHistogram('mcp.server.operation.duration', {
      description: 'Duration of MCP requests through the gateway, until their reply',
      unit: 's',
    });
    durations.set(t, h);
  }
  return h;
}
