import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createAuthFetch } from './http/auth-fetch.js';
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
}

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
  const authFetch = createAuthFetch({
    session: sessionFor(target, opts),
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const transport = new StreamableHTTPClientTransport(target, { fetch: authFetch });
  const client = new Client(opts.clientInfo ?? { name: 'mcp-streamablehttp-client', version: '0' });
  try {
    await client.connect(transport);
  } catch (err) {
    await transport.close().catch(() => undefined);
    throw toClientError(err, target.href);
  }
  return client;
}
