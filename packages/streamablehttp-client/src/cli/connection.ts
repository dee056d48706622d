/** The MCP connection of one-shot commands: era, credentials, and errors named after the server. */
import { openConnection, type McpConnection } from '../connection.js';
import { UsageError } from '../errors.js';
import { toClientError } from '../http/mcp-errors.js';
import {
  parseProtocolPreference,
  PROTOCOL_PREFERENCES,
  type ProtocolPreference,
} from '../protocol/versions.js';
import { version, type Context } from './context.js';
import { intFlag, trafficSession } from './oauth-flags.js';

/** `--protocol`: which MCP era to speak (default `auto`: probe with `server/discover`). */
export function protocolOf(ctx: Context): ProtocolPreference {
  const p = parseProtocolPreference(ctx.flags.protocol);
  if (!p) throw new UsageError(`--protocol must be one of ${PROTOCOL_PREFERENCES.join(', ')}`);
  return p;
}

/** `--request-timeout` in ms, checked (1 s to a day); `undefined` when not given (the default applies). */
export function requestTimeoutOf(ctx: Context): number | undefined {
  const seconds = intFlag(ctx.flags['request-timeout'], 'request-timeout', 1, 24 * 3600);
  return seconds === undefined ? undefined : seconds * 1000;
}

async function connectClient(ctx: Context): Promise<McpConnection> {
  const protocol = protocolOf(ctx);
  const requestTimeoutMs = requestTimeoutOf(ctx);
  const session = await trafficSession(ctx);
  return openConnection(ctx.url, {
    ...(session ? { oauth: session } : {}),
    ...(ctx.flags.token ? { token: ctx.flags.token } : {}),
    headers: ctx.headers,
    logger: ctx.log,
    clientInfo: { name: 'mcp-streamablehttp-client', version: version() },
    protocol,
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
  });
}

/** Runs `fn` with a connected client, closed afterwards; errors name the server. */
export async function withClient<T>(ctx: Context, fn: (client: McpConnection) => Promise<T>): Promise<T> {
  const client = await connectClient(ctx);
  try {
    return await fn(client);
  } catch (err) {
    throw toClientError(err, ctx.url.href);
  } finally {
    await client.close();
  }
}
