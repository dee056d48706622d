/**
 * A loopback HTTP server that accepts every request and never answers it (no
 * status line, no headers): a remote that hangs. `received` lists the
 * requests as `METHOD path`; `firstRequest()` resolves once one has come.
 */
import { listen, type Listening } from '@mcp-gateway/testkit';

export interface HangingServer extends Listening {
  mcpUrl: string;
  received: string[];
  /** Resolves with the first request's `METHOD path` once it has arrived. */
  firstRequest(): Promise<string>;
}

export async function startHangingServer(): Promise<HangingServer> {
  const received: string[] = [];
  const waiters: Array<(r: string) => void> = [];
  const l = await listen(async (req) => {
    const r = `${req.method} ${new URL(req.url).pathname}`;
    received.push(r);
    for (const w of waiters.splice(0)) w(r);
    return new Promise<Response>(() => undefined);
  });
  return {
    ...l,
    mcpUrl: `${l.url}/mcp`,
    received,
    firstRequest: () =>
      received.length ? Promise.resolve(received[0]!) : new Promise((resolve) => waiters.push(resolve)),
  };
}
