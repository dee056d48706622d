import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Durations buffered before they are handed to prom-client without a scrape. */
const MAX_PENDING_DURATIONS = 4096;

/** The `tool` label of calls to tools the service did not publish (or published beyond the cap). */
export const OTHER_TOOL = 'other';
/** Default of `metrics.maxToolsPerService`. */
export const DEFAULT_MAX_TOOLS_PER_SERVICE = 100;
/** Longest tool name used as a label (MCP names are 1 to 128 characters). */
const MAX_TOOL_NAME_LENGTH = 128;

/** The gateway's Prometheus metrics, in a registry of its own (several gateways can share a process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** Requests counted since the last scrape, by `route\u0000status` (see {@link countRequest}). */
  private readonly pendingRequests = new Map<string, number>();
  readonly requests: Counter<'route' | 'status'> = new Counter({
    name: 'mcp_gateway_http_requests_total',
    help: 'HTTP requests by route kind and status.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [key, n] of this.pendingRequests) {
        const sep = key.indexOf('\u0000');
        this.requests.inc({ route: key.slice(0, sep), status: key.slice(sep + 1) }, n);
      }
      this.pendingRequests.clear();
    },
  });
  /** Durations observed since the last scrape, by route (see {@link observeDuration}). */
  private readonly pendingDurations = new Map<string, number[]>();
  private pendingDurationCount = 0;
  readonly duration: Histogram<'route'> = new Histogram({
    name: 'mcp_gateway_http_request_duration_seconds',
    help: 'Time to the response headers, by route kind.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
    collect: () => this.flushDurations(),
  });
  /** Tool names each service published in a `tools/list` answer (at most {@link maxToolsPerService} each). */
  private readonly publishedTools = new Map<string, Set<string>>();
  /** Most `tool` label values per service; other tools are counted as {@link OTHER_TOOL}. */
  readonly maxToolsPerService: number;
  /** Tool calls counted since the last scrape, by `service\u0000tool` (see {@link countToolCall}). */
  private readonly pendingToolCalls = new Map<string, number>();
  readonly toolCalls: Counter<'service' | 'tool'> = new Counter({
    name: 'mcp_gateway_tool_calls_total',
    help: 'tools/call requests by service and tool.',
    labelNames: ['service', 'tool'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [key, n] of this.pendingToolCalls) {
        const sep = key.indexOf('\u0000');
        this.toolCalls.inc({ service: key.slice(0, sep), tool: key.slice(sep + 1) }, n);
      }
      this.pendingToolCalls.clear();
    },
  });
  readonly authFailures = new Counter({
    name: 'mcp_gateway_auth_failures_total',
    help: 'Requests to services refused for a missing, invalid or insufficient token.',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });
  readonly backendErrors = new Counter({
    name: 'mcp_gateway_backend_errors_total',
    help: 'Requests that failed because a backend was unavailable or timed out.',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  /**
   * `tools/call`s a per-tool policy refused. Labels are bounded: `target` is `service` or
   * `endpoint`, `name` a configured service or endpoint, `decision` `deny` or `hidden`; never
   * the tool (a client could make up names) nor the user.
   */
  readonly policyDenials = new Counter({
    name: 'mcp_gateway_policy_denials_total',
    help: 'tools/call requests refused by a per-tool policy, by service or endpoint and decision.',
    labelNames: ['target', 'name', 'decision'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'mcp_gateway_webhook_deliveries_total',
    help: 'Webhook deliveries by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /** Set by the gateway: the open sessions per service, read at scrape time. */
  sessionSource: (() => [string, number][]) | undefined;
  readonly sessions: Gauge<'service'>;

  constructor(opts: { processMetrics?: boolean; maxToolsPerService?: number } = {}) {
    this.maxToolsPerService = opts.maxToolsPerService ?? DEFAULT_MAX_TOOLS_PER_SERVICE;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.sessions = new Gauge({
      name: 'mcp_gateway_stdio_sessions',
      help: 'Open stdio sessions (child processes) by service.',
      labelNames: ['service'] as const,
      registers: [this.registry],
      collect() {
        for (const [service, n] of self.sessionSource?.() ?? []) this.set({ service }, n);
      },
    });
    // Node's default names, unprefixed (process_cpu_seconds_total, nodejs_heap_size_used_bytes, …), so stock dashboards work.
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Counts one HTTP request. Per request: one plain map update; prom-client
   * hashes the labels on every `inc`, so the counts are added to
   * {@link requests} at scrape time.
   */
  countRequest(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    this.pendingRequests.set(key, (this.pendingRequests.get(key) ?? 0) + 1);
  }

  /**
   * Records tool names `service` published (the `tools` of a `tools/list`
   * result that passed through). Names are kept until the cap
   * ({@link maxToolsPerService}) is reached; later ones stay unknown.
   */
  learnTools(service: string, names: Iterable<unknown>): void {
    let known = this.publishedTools.get(service);
    if (!known) this.publishedTools.set(service, (known = new Set()));
    for (const name of names) {
      if (known.size >= this.maxToolsPerService) return;
      if (typeof name === 'string' && name.length > 0 && name.length <= MAX_TOOL_NAME_LENGTH) known.add(name);
    }
  }

  /**
   * Counts one `tools/call` the backend answered with a result (added to
   * {@link toolCalls} at scrape time, like {@link countRequest}). The label is
   * the tool's name only when the service published it ({@link learnTools});
   * any other name counts as {@link OTHER_TOOL}, so clients cannot add series.
   */
  countToolCall(service: string, tool: string): void {
    const label = this.publishedTools.get(service)?.has(tool) ? tool : OTHER_TOOL;
    const key = `${service}\u0000${label}`;
    this.pendingToolCalls.set(key, (this.pendingToolCalls.get(key) ?? 0) + 1);
  }

  /**
   * Records a request duration; observed into {@link duration} at scrape time,
   * or once {@link MAX_PENDING_DURATIONS} are waiting (so memory stays bounded
   * when nobody scrapes).
   */
  observeDuration(route: string, seconds: number): void {
    let list = this.pendingDurations.get(route);
    if (!list) this.pendingDurations.set(route, (list = []));
    list.push(seconds);
    if (++this.pendingDurationCount >= MAX_PENDING_DURATIONS) this.flushDurations();
  }

  /** Durations recorded but not yet handed to prom-client (at most 4095). */
  get bufferedDurations(): number {
    return this.pendingDurationCount;
  }

  private flushDurations(): void {
    for (const [route, list] of this.pendingDurations) {
      for (const s of list) this.duration.observe({ route }, s);
      list.length = 0;
    }
    this.pendingDurationCount = 0;
  }

  /** The Prometheus text exposition. */
  async render(): Promise<Response> {
    return new Response(await this.registry.metrics(), {
      headers: { 'content-type': this.registry.contentType, 'cache-control': 'no-store' },
    });
  }
}
