import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createAuthFetch } from './http/auth-fetch.js';
import {
  abortedWith,
  DEFAULT_REQUEST_TIMEOUT_MS,
  isDeadlineAware,
  requestDeadline,
  withinDeadline,
  withRequestDeadline,
} from './http/deadline.js';
import type { FetchLike } from './http/fetch.js';
import { toClientError } from './http/mcp-errors.js';
import type { Logger } from './log.js';
import { OAuthSession, type OAuthSessionOptions } from './oauth/session.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * OAuth: `true` for defaults (file token store, browser login), session
   * options, or an existing {@link OAuthSession}.
   */
  oauth?: boolean | Omit<OAuthSessionOptions, 'serverUrl'> | OAuthSession;
  /** A fixed bearer token. */
  token?: string;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Name and version the client announces in `initialize`. */
  clientInfo?: { name: string; version: string };
  fetch?: FetchLike;
  logger?: Logger;
  /**
   * Deadline (ms) of each HTTP request to the MCP server: its response
   * headers must arrive within it, else it fails with a `DeadlineError`
   * (`kind` network, `code` timeout). It also bounds each whole request:
   * `initialize` here, and every request of an `openConnection`, whichever
   * era the server speaks. An OAuth sign-in (between two requests or during
   * one) is not timed. Requests made on the `Client` that {@link connect}
   * returns have the MCP SDK's own timeout instead. Default 60 s.
   */
  requestTimeoutMs?: number;
}

/** {@link ConnectOptions.requestTimeoutMs} or its default. */
export function requestTimeoutOf(opts: ConnectOptions): number {
  return opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
}

/**
 * The MCP SDK's own timeout of a request we time with `withinDeadline`: none
 * in effect (the longest a timer can wait, about 24 days). The SDK's cannot
 * stop during a sign-in; ours does, and names the cause.
 */
export const SDK_UNTIMED_MS = 2 ** 31 - 1;

/** The OAuth session {@link connect} should use, if any. */
export function sessionFor(url: URL, opts: ConnectOptions): OAuthSession | undefined {
  if (!opts.oauth) return undefined;
  if (opts.oauth instanceof OAuthSession) return opts.oauth;
  const extra = opts.oauth === true ? {} : opts.oauth;
  const sessionOpts: OAuthSessionOptions = { ...extra, serverUrl: url };
  if (opts.fetch && !sessionOpts.fetch) sessionOpts.fetch = opts.fetch;
  if (opts.logger && !sessionOpts.logger) sessionOpts.logger = opts.logger;
  return new OAuthSession(sessionOpts);
}

/**
 * The fetch of MCP requests: credentials (session, token, headers) over the
 * caller's fetch, with the request deadline on each HTTP request below the
 * OAuth layer (so it does not time a sign-in).
 */
export function mcpFetch(session: OAuthSession | undefined, opts: ConnectOptions): FetchLike {
  const base = opts.fetch ?? ((input, init) => fetch(input, init));
  const authFetch = createAuthFetch({
    ...(session ? { session } : {}),
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    fetch: isDeadlineAware(base) ? base : withRequestDeadline(base),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const ms = requestTimeoutOf(opts);
  return requestDeadline(authFetch, () => ms);
}

/**
 * Connects to a Streamable HTTP MCP server and returns the MCP SDK `Client`,
 * initialized. With `oauth`, it discovers, registers, logs in and refreshes as
 * needed. Failures are {@link ClientError}s (`kind` tells auth from server
 * from network failures).
 *
 * ```ts
 * const client = await connect('https://mcp.example.com/mcp', { oauth: true });
 * console.log(await client.listTools());
 * await client.close();
 * ```
 */
export async function connect(url: string | URL, opts: ConnectOptions = {}): Promise<Client> {
  const target = new URL(url);
  const transport = new StreamableHTTPClientTransport(target, {
    fetch: mcpFetch(sessionFor(target, opts), opts),
  });
  const client = new Client(opts.clientInfo ?? { name: 'mcp-streamablehttp-client', version: '0' });
  const ms = requestTimeoutOf(opts);
  try {
    // Not the SDK's `signal`: on abort it sends notifications/cancelled, which initialize must not get.
    await withinDeadline(target.href, ms, 'did not answer initialize', (signal) =>
      Promise.race([client.connect(transport, { timeout: SDK_UNTIMED_MS }), abortedWith(signal)]),
    );
  } catch (err) {
    await transport.close().catch(() => undefined);
    throw toClientError(err, target.href);
  }
  return client;
}
