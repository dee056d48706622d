/** Bridge mode (no command): stdin/stdout JSON-RPC to the server until the host closes stdin. */
import { StdioBridge } from '../bridge/bridge.js';
import { EXIT_CODES } from '../errors.js';
import { createAuthFetch } from '../http/auth-fetch.js';
import { withRequestDeadline } from '../http/deadline.js';
import { protocolOf, requestTimeoutOf } from './connection.js';
import { version, type Context } from './context.js';
import { trafficSession } from './oauth-flags.js';

/** Runs the bridge; SIGINT and SIGTERM end the session and exit 0. */
export async function runBridge(ctx: Context): Promise<number> {
  const protocol = protocolOf(ctx);
  const requestTimeoutMs = requestTimeoutOf(ctx);
  const session = await trafficSession(ctx);
  const authFetch = createAuthFetch({
    // The deadline times each HTTP request to the server, not a sign-in between them.
    fetch: withRequestDeadline((input, init) => fetch(input, init)),
    ...(session ? { session } : {}),
    ...(ctx.flags.token ? { token: ctx.flags.token } : {}),
    headers: ctx.headers,
    logger: ctx.log,
  });
  const bridge = new StdioBridge({
    url: ctx.url,
    fetch: authFetch,
    input: ctx.io.stdin,
    output: ctx.io.stdout,
    logger: ctx.log,
    protocol,
    clientInfo: { name: 'mcp-streamablehttp-client', version: version() },
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
  });
  const stop = () => void bridge.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  ctx.log.info('bridge started', {
    url: ctx.url.href,
    auth: session ? 'oauth' : ctx.flags.token ? 'token' : 'none',
  });
  await bridge.run();
  return EXIT_CODES.ok;
}
