import type http from 'node:http';
import type { FetchHandler } from '@mcp-gateway/internal/fetch-handler';
import { jsonRpcEdgeError } from '@mcp-gateway/internal/jsonrpc-error';
import { createNodeServer, toNodeListener as edgeListener } from '@mcp-gateway/internal/node-edge';
import { createStdioBridge, type StdioBridge } from './bridge.js';
import { isLoopbackHost } from './http-handler.js';
import { DEFAULTS, type StdioBridgeOptions } from './options.js';

/** A Fetch-API handler: `(request, info)`, the node edge's one handler shape (`info` may be ignored). */
export type { FetchHandler } from '@mcp-gateway/internal/fetch-handler';

/**
 * Adapts a Fetch-API handler, or a bridge, to node:http through the node edge every
 * `@mcp-gateway` package shares. Request bodies up to `maxBodyBytes` (default 4 MiB) are read
 * before the handler runs and handed to a bridge as `info.body`; event streams are written as the
 * session pushes them, headers first; a client that disconnects cancels the body.
 */
export function toNodeListener(
  handler: FetchHandler | StdioBridge,
  opts: { maxBodyBytes?: number } = {},
): http.RequestListener {
  const fetch: FetchHandler = typeof handler === 'function' ? handler : handler.fetch;
  return edgeListener(fetch, {
    bufferBodyBytes: opts.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    errorResponse: jsonRpcEdgeError,
  });
}

/** A bridge listening on node:http. */
export interface ServedBridge {
  bridge: StdioBridge;
  server: http.Server;
  /** e.g. `http://127.0.0.1:3000` (no path). */
  url: string;
  /** Stops listening, then closes the bridge (every child exits). */
  close(): Promise<void>;
}

/**
 * Creates a bridge and serves it on `host:port` (default 127.0.0.1:3000) through the node edge.
 * Bound to a loopback address, DNS-rebinding protection (`allowedHosts: 'loopback'`) is on unless
 * `allowedHosts` says otherwise.
 */
export async function serveNode(
  options: StdioBridgeOptions,
  listen: { host?: string; port?: number } = {},
): Promise<ServedBridge> {
  const host = listen.host ?? '127.0.0.1';
  const allowedHosts =
    options.allowedHosts ?? (isLoopbackHost(host.replace(/^\[|\]$/g, '')) ? 'loopback' : undefined);
  const bridge = createStdioBridge({ ...options, allowedHosts });
  const node = createNodeServer(bridge.fetch, {
    bufferBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    errorResponse: jsonRpcEdgeError,
  });
  let url: string;
  try {
    url = await node.listen(listen.port ?? 3000, host);
  } catch (err) {
    await bridge.close();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    bridge,
    server: node.server,
    url,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((r) => node.server.close(() => r()));
        await bridge.close();
        node.server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}
