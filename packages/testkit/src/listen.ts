import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeListener } from '@mcp-gateway/internal/node-edge';

/** A running test server. */
export interface Listening {
  /** Base URL, e.g. `http://127.0.0.1:40123`. No trailing slash. */
  url: string;
  port: number;
  server: http.Server;
  /** Closes the server and every open connection. Safe to call twice. */
  close(): Promise<void>;
}

/** A Fetch-API handler, as every package in this repo exports. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Starts a Fetch-API handler on `127.0.0.1` with an ephemeral port, through the node edge every
 * package uses (`@mcp-gateway/internal/node-edge`, inlined here). Request URLs use the listening
 * URL as origin whatever `Host` the client sends; a handler that throws answers 500.
 */
export async function listen(
  handler: FetchHandler,
  opts: { host?: string; port?: number } = {},
): Promise<Listening> {
  const late: { edge?: http.RequestListener } = {};
  const listening = await listenNode((req, res) => late.edge!(req, res), opts);
  late.edge = toNodeListener(handler, { origin: listening.url });
  return listening;
}

/** Starts a node `RequestListener` on `127.0.0.1` with an ephemeral port. */
export async function listenNode(
  listener: http.RequestListener,
  opts: { host?: string; port?: number } = {},
): Promise<Listening> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
