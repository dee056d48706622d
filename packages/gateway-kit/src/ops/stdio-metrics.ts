import type { BridgeStats } from '@mcp-gateway/streamablehttp-proxy';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The running stdio services and their bridge counters, read at scrape time. */
export type StdioStatsSource = () => [service: string, stats: BridgeStats][];

/**
 * Exports the bridge counters of every stdio service: both session caps, new
 * sessions refused by reason (`global_cap`: 503, `user_cap`: 429), idle
 * sessions evicted for their user's cap, request deadline expiries, sessions
 * ended for never finishing `initialize`, child spawns and crashes.
 * Labels are the service name and a fixed reason only (no user ids): the
 * cardinality is bounded by the number of services.
 */
export function registerStdioMetrics(registry: Registry, source: StdioStatsSource): void {
  /** A metric whose value per service is `read(stats)` at scrape time (the bridge keeps the totals). */
  const mirror = (
    type: 'gauge' | 'counter',
    name: string,
    help: string,
    read: (s: BridgeStats) => number,
  ) => {
    function collect(this: Gauge<'service'> | Counter<'service'>) {
      this.reset();
      for (const [service, stats] of source()) {
        if (this instanceof Gauge) this.set({ service }, read(stats));
        else this.inc({ service }, read(stats));
      }
    }
    const config = { name, help, labelNames: ['service'] as const, registers: [registry], collect };
    return type === 'gauge' ? new Gauge(config) : new Counter(config);
  };
  const gauge = (name: string, help: string, read: (s: BridgeStats) => number) =>
    mirror('gauge', name, help, read);
  const counter = (name: string, help: string, read: (s: BridgeStats) => number) =>
    mirror('counter', name, help, read);
  gauge('mcp_gateway_stdio_sessions_max', 'Session cap of each stdio service.', (s) => s.maxSessions);
  gauge(
    'mcp_gateway_stdio_sessions_per_user_max',
    'Per-user session cap of each stdio service (0: none).',
    (s) => s.maxSessionsPerUser,
  );
  new Counter({
    name: 'mcp_gateway_stdio_session_rejections_total',
    help: 'New stdio sessions refused, by service and reason: global_cap (503) or user_cap (429).',
    labelNames: ['service', 'reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [service, stats] of source()) {
        this.inc({ service, reason: 'global_cap' }, stats.rejections.globalCap);
        this.inc({ service, reason: 'user_cap' }, stats.rejections.userCap);
      }
    },
  });
  counter(
    'mcp_gateway_stdio_session_evictions_total',
    "Idle stdio sessions ended to make room under their user's cap.",
    (s) => s.evictions,
  );
  counter(
    'mcp_gateway_stdio_request_timeouts_total',
    'Requests to stdio children answered -32001 at their deadline.',
    (s) => s.timeouts,
  );
  counter(
    'mcp_gateway_stdio_sessions_uninitialized_reaped_total',
    'Stdio sessions ended because the child did not answer initialize in time.',
    (s) => s.uninitializedReaped,
  );
  counter('mcp_gateway_stdio_child_spawns_total', 'Stdio child processes started.', (s) => s.spawns);
  counter(
    'mcp_gateway_stdio_child_crashes_total',
    'Stdio children that exited without being asked to.',
    (s) => s.crashes,
  );
}
