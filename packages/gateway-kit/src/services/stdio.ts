import { randomBytes } from 'node:crypto';
import { childLogger } from '@mcp-gateway/internal/log';
import { responseHeader } from '@mcp-gateway/internal/lazy-response';
import type { Clock } from '@mcp-gateway/oauth-dynamicclient';
import { createStdioBridge, type BridgeCaller, type RequestView } from '@mcp-gateway/streamablehttp-proxy';
import type { StdioServiceConfig } from '../config/schema.js';
import { statelessPoolOptions } from '../config/stateless-schema.js';
import type { Identity } from '../identity.js';
import { MisroutedSessions, sessionIdGenerator } from '../instance-id.js';
import type { HopTracer } from '../telemetry/mcp-trace.js';
import type { Logger } from '../ops/logger.js';
import { isOwnedHeader } from '../gateway/routes/headers.js';
import { withTraceMeta } from '../telemetry/trace-meta.js';
import type { BackendCall, ServiceBackend } from './backend.js';
import { requestStateKeyFor } from './request-state-key.js';

/** Variables every child gets from the gateway's environment, so commands like `npx` work. */
export const BASE_ENV = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SYSTEMROOT',
  'USERPROFILE',
  'APPDATA',
];

/** The environment of every child: {@link BASE_ENV}, the service's `passEnv` allow-list, then its fixed `env`. */
export function childEnv(
  config: StdioServiceConfig,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of [...BASE_ENV, ...config.passEnv]) if (env[k] !== undefined) out[k] = env[k];
  return { ...out, ...config.env };
}

/** Gateway-wide inputs of {@link stdioBackend}. */
export interface StdioBackendOptions {
  /**
   * Secret the bridge's MRTR `requestState` key is derived from (per service
   * name, {@link requestStateKeyFor}). Without it the key is random per process.
   */
  requestStateSecret?: Uint8Array;
  /** The config's `instanceId`: every session id starts with `<instanceId>.` (unset: no prefix). */
  instanceId?: string;
  /**
   * For tests only (see `CreateGatewayOptions.clock`): the bridge's time source (its sessions'
   * idle times and deadlines, swept as the clock moves when it has `every`). Default: the wall clock.
   */
  clock?: Clock;
}

/**
 * A `stdio` service: the streamablehttp-proxy bridge in-process, one child per
 * session. Sessions are bound to the user who opened them (a request from
 * another user for the same `Mcp-Session-Id` gets 404), and with
 * `identityEnv` each child gets `MCP_USER_ID` / `MCP_USER_NAME`.
 */
export function stdioBackend(
  name: string,
  config: StdioServiceConfig,
  log: Logger,
  mcpPath = '/mcp',
  opts: StdioBackendOptions = {},
): ServiceBackend {
  const logger = childLogger(log, { service: name });
  const bridge = createStdioBridge({
    command: config.command,
    path: mcpPath,
    args: config.args,
    cwd: config.cwd,
    env: childEnv(config),
    maxSessions: config.maxSessions,
    // Keyed by the caller's identity: the token's immutable `sub`, never a display name.
    maxSessionsPerUser: config.maxSessionsPerUser,
    sessionTimeoutMs: config.sessionTimeout * 1000,
    requestTimeoutMs: config.requestTimeout * 1000,
    maxRequestTimeoutMs: config.maxRequestTimeout * 1000,
    initializeTimeoutMs: config.initializeTimeout * 1000,
    maxInFlightPerSession: config.maxInFlightPerSession,
    maxStreamQueueBytes: config.maxStreamQueueBytes,
    poolSize: config.identityEnv ? 0 : config.poolSize,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    // 128 random bits as hex, as the bridge's default; behind `<instanceId>.` when set.
    generateSessionId: sessionIdGenerator(opts.instanceId, () => randomBytes(16).toString('hex')),
    // The same key on every instance sharing the store: an MRTR retry may land on any of them.
    modern: {
      ...statelessPoolOptions(config.stateless),
      ...(opts.requestStateSecret
        ? { requestStateKey: requestStateKeyFor(opts.requestStateSecret, name) }
        : {}),
    },
  });
  const misrouted = new MisroutedSessions(opts.instanceId, logger);
  const callerOf = (identity: Identity): BridgeCaller => {
    if (!config.identityEnv) return { identity: identity.sub };
    const env: Record<string, string> = { MCP_USER_ID: identity.sub };
    if (identity.name) env.MCP_USER_NAME = encodeURIComponent(identity.name);
    return { identity: identity.sub, env };
  };
  /**
   * The bridge round trip as a child span; when sampled, each message's `params._meta` carries its
   * trace context to the child (the body is rewritten only then). An SSE answer's hop ends with
   * the request's span, at the child's reply.
   */
  const traced = async (view: RequestView, trace: HopTracer, identity: Identity) => {
    const json = view.json as { method?: unknown } | undefined;
    const method = typeof json?.method === 'string' ? json.method : view.method;
    const hop = trace.hop('mcp.bridge', {
      'mcp.gateway.service': name,
      'mcp.method.name': method,
      'network.transport': 'pipe',
    });
    if (trace.sampled && view.json !== undefined) {
      view.json = withTraceMeta(view.json, hop.carrier);
      view.body = Buffer.from(JSON.stringify(view.json));
    }
    try {
      const res = await bridge.handle(view, callerOf(identity));
      if (!responseHeader(res, 'content-type')?.startsWith('text/event-stream'))
        hop.end({ status: res.status });
      return res;
    } catch (err) {
      hop.end({ error: err instanceof Error ? err.name : 'error' });
      throw err;
    }
  };
  return {
    kind: 'stdio',
    observesResponses: true,
    readsJson: true,
    handle(request: Request, identity: Identity, call: BackendCall = {}) {
      const headers = request.headers;
      // Another instance's session is unknown here: the bridge answers 404; the operator is told.
      misrouted.check(headers.get('mcp-session-id'));
      const view: RequestView = {
        method: request.method,
        url: request.url,
        // The client's token, cookies and identity claims never reach the bridge.
        header: (name) => (isOwnedHeader(name) ? null : headers.get(name)),
        body: call.bytes ?? (call.body === undefined ? undefined : Buffer.from(call.body)),
        json: call.json,
        observer: call.observer,
        clientGone: () => call.info?.signal ?? request.signal,
        lateAnswer: call.lateAnswer === true && !call.trace,
      };
      if (view.body === undefined && view.json === undefined && request.body) {
        view.loadBody = async () => new Uint8Array(await request.arrayBuffer());
      }
      if (call.trace) return traced(view, call.trace, identity);
      return bridge.handle(view, callerOf(identity));
    },
    async ready() {
      const res = await bridge.fetch(new Request('http://gateway.internal/readyz'));
      await res.body?.cancel();
      return res.ok;
    },
    sessions: () => bridge.stats().sessions,
    sessionCapabilities: (identity) => bridge.sessionCapabilities(callerOf(identity)),
    stdioStats: () => bridge.stats(),
    close: () => bridge.close(),
  };
}
