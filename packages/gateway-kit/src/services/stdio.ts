import { childLogger } from '@mcp-gateway/internal/log';
import { createStdioBridge } from '@mcp-gateway/streamablehttp-proxy';
import type { StdioServiceConfig } from '../config/schema.js';
import type { Identity } from '../identity.js';
import type { Logger } from '../ops/logger.js';
import type { ServiceBackend } from './backend.js';
import { requestStateKeyFor } from './request-state-key.js';

/** Headers the gateway sets (after stripping any client copy) to tell the bridge who the caller is. */
export const IDENTITY_HEADER = 'x-mcp-gateway-user-id';
export const NAME_HEADER = 'x-mcp-gateway-user-name';

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
  const bridge = createStdioBridge({
    command: config.command,
    path: mcpPath,
    args: config.args,
    cwd: config.cwd,
    env: childEnv(config),
    maxSessions: config.maxSessions,
    // Keyed by the identity header below: the token's immutable `sub`, never a display name.
    maxSessionsPerUser: config.maxSessionsPerUser,
    sessionTimeoutMs: config.sessionTimeout * 1000,
    requestTimeoutMs: config.requestTimeout * 1000,
    maxRequestTimeoutMs: config.maxRequestTimeout * 1000,
    initializeTimeoutMs: config.initializeTimeout * 1000,
    poolSize: config.identityEnv ? 0 : config.poolSize,
    identity: IDENTITY_HEADER,
    envFromHeaders: config.identityEnv
      ? { [IDENTITY_HEADER]: 'MCP_USER_ID', [NAME_HEADER]: 'MCP_USER_NAME' }
      : {},
    logger: childLogger(log, { service: name }),
    // The same key on every instance sharing the store: an MRTR retry may land on any of them.
    ...(opts.requestStateSecret
      ? { modern: { requestStateKey: requestStateKeyFor(opts.requestStateSecret, name) } }
      : {}),
  });
  return {
    kind: 'stdio',
    async handle(request: Request, identity: Identity) {
      request.headers.set(IDENTITY_HEADER, identity.sub);
      if (identity.name) request.headers.set(NAME_HEADER, encodeURIComponent(identity.name));
      return bridge.fetch(request);
    },
    handleNode(req, res, identity, init) {
      // The client's copies of the headers the gateway owns are hidden; the identity headers are ours.
      const headers: Record<string, string | null> = {};
      for (const k of init.hide) headers[k] = null;
      headers[IDENTITY_HEADER] = identity.sub;
      headers[NAME_HEADER] = identity.name ? encodeURIComponent(identity.name) : null;
      return bridge.handleNode(req, res, {
        body: init.body,
        json: init.json,
        headers,
        responseHeaders: init.responseHeaders,
        observer: init.observer,
      });
    },
    async ready() {
      const res = await bridge.fetch(new Request('http://gateway.internal/readyz'));
      await res.body?.cancel();
      return res.ok;
    },
    sessions: () => bridge.stats().sessions,
    stdioStats: () => bridge.stats(),
    close: () => bridge.close(),
  };
}
