/** Upper bounds (seconds) of the request-latency histogram buckets. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The HTTP methods counted under their own name; any other is `OTHER`. */
export const HTTP_METHOD_LABELS: ReadonlySet<string> = new Set([
  'GET',
  'POST',
  'DELETE',
  'OPTIONS',
  'HEAD',
  'PUT',
  'PATCH',
]);

/**
 * The bridge's counters, rendered as Prometheus text exposition format 0.0.4.
 * Hand-written (about 80 lines) rather than prom-client: a handful of
 * counters and one histogram, no global registry, nothing on the hot path but
 * integer increments.
 */
export class BridgeMetrics {
  sessionsOpened = 0;
  sessionsClosed = 0;
  spawns = 0;
  crashes = 0;
  rpcRequests = 0;
  timeouts = 0;
  /** Sessions ended because the child did not answer `initialize` in time. */
  uninitializedReaped = 0;
  /** Idle sessions ended to make room under their user's cap. */
  evictions = 0;
  /** New sessions refused because the bridge was full (503). */
  rejectedGlobalCap = 0;
  /** New sessions refused because every session of the user was busy (429). */
  rejectedUserCap = 0;
  /** Session requests refused because the session had `maxInFlightPerSession` in flight (429). */
  rejectedInFlight = 0;
  stdoutSkipped = 0;
  private http = new Map<string, number>();
  private buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private latencyCount = 0;
  private latencySum = 0;

  /**
   * Counts one HTTP answer. A method outside {@link HTTP_METHOD_LABELS} is counted as `OTHER`:
   * runtimes that pass any method through must not make the label series unbounded.
   */
  countHttp(method: string, status: number): void {
    const key = `${HTTP_METHOD_LABELS.has(method) ? method : 'OTHER'} ${status}`;
    this.http.set(key, (this.http.get(key) ?? 0) + 1);
  }

  /** Records the time from a request reaching the bridge to its response leaving the child. */
  observeLatency(seconds: number): void {
    this.latencyCount++;
    this.latencySum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
  }

  /** Prometheus text for these counters plus the current gauges. */
  render(gauges: {
    sessions: number;
    pool: number;
    warm: number;
    maxSessions: number;
    maxSessionsPerUser: number;
  }): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    metric('mcp_bridge_sessions', 'gauge', 'Open sessions.', [`mcp_bridge_sessions ${gauges.sessions}`]);
    metric('mcp_bridge_sessions_max', 'gauge', 'Session cap.', [
      `mcp_bridge_sessions_max ${gauges.maxSessions}`,
    ]);
    metric('mcp_bridge_sessions_per_user_max', 'gauge', 'Session cap per user (0: none).', [
      `mcp_bridge_sessions_per_user_max ${gauges.maxSessionsPerUser}`,
    ]);
    metric('mcp_bridge_pool_children', 'gauge', 'Pre-spawned children waiting in the warm pool.', [
      `mcp_bridge_pool_children ${gauges.pool}`,
    ]);
    metric('mcp_bridge_pool_children_warm', 'gauge', 'Pooled children that answered their warm-up ping.', [
      `mcp_bridge_pool_children_warm ${gauges.warm}`,
    ]);
    metric('mcp_bridge_sessions_opened_total', 'counter', 'Sessions opened.', [
      `mcp_bridge_sessions_opened_total ${this.sessionsOpened}`,
    ]);
    metric('mcp_bridge_sessions_closed_total', 'counter', 'Sessions ended (deleted, reaped, crashed).', [
      `mcp_bridge_sessions_closed_total ${this.sessionsClosed}`,
    ]);
    metric('mcp_bridge_child_spawns_total', 'counter', 'Child processes started.', [
      `mcp_bridge_child_spawns_total ${this.spawns}`,
    ]);
    metric('mcp_bridge_child_crashes_total', 'counter', 'Children that exited without being asked to.', [
      `mcp_bridge_child_crashes_total ${this.crashes}`,
    ]);
    metric('mcp_bridge_jsonrpc_requests_total', 'counter', 'JSON-RPC requests forwarded to children.', [
      `mcp_bridge_jsonrpc_requests_total ${this.rpcRequests}`,
    ]);
    metric(
      'mcp_bridge_request_timeouts_total',
      'counter',
      'JSON-RPC requests answered with a timeout error.',
      [`mcp_bridge_request_timeouts_total ${this.timeouts}`],
    );
    metric(
      'mcp_bridge_session_rejections_total',
      'counter',
      'New sessions refused, by reason: global_cap (503) or user_cap (429).',
      [
        `mcp_bridge_session_rejections_total{reason="global_cap"} ${this.rejectedGlobalCap}`,
        `mcp_bridge_session_rejections_total{reason="user_cap"} ${this.rejectedUserCap}`,
      ],
    );
    metric(
      'mcp_bridge_requests_rejected_in_flight_total',
      'counter',
      'Session requests refused (429) because the session had maxInFlightPerSession requests in flight.',
      [`mcp_bridge_requests_rejected_in_flight_total ${this.rejectedInFlight}`],
    );
    metric(
      'mcp_bridge_session_evictions_total',
      'counter',
      "Idle sessions ended to make room under their user's cap.",
      [`mcp_bridge_session_evictions_total ${this.evictions}`],
    );
    metric(
      'mcp_bridge_sessions_uninitialized_reaped_total',
      'counter',
      'Sessions ended because the child did not answer initialize in time.',
      [`mcp_bridge_sessions_uninitialized_reaped_total ${this.uninitializedReaped}`],
    );
    metric('mcp_bridge_stdout_lines_skipped_total', 'counter', 'Child stdout lines that were not JSON-RPC.', [
      `mcp_bridge_stdout_lines_skipped_total ${this.stdoutSkipped}`,
    ]);
    const httpLines = [...this.http].map(([key, n]) => {
      const [method, status] = key.split(' ');
      return `mcp_bridge_http_requests_total{method="${method}",status="${status}"} ${n}`;
    });
    metric(
      'mcp_bridge_http_requests_total',
      'counter',
      'HTTP requests answered, by method and status.',
      httpLines,
    );
    const hist: string[] = [];
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += this.buckets[i]!;
      hist.push(`mcp_bridge_request_duration_seconds_bucket{le="${le}"} ${cumulative}`);
    });
    hist.push(`mcp_bridge_request_duration_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    hist.push(`mcp_bridge_request_duration_seconds_sum ${this.latencySum}`);
    hist.push(`mcp_bridge_request_duration_seconds_count ${this.latencyCount}`);
    metric(
      'mcp_bridge_request_duration_seconds',
      'histogram',
      'JSON-RPC request latency through the bridge.',
      hist,
    );
    return out.join('\n') + '\n';
  }
}
