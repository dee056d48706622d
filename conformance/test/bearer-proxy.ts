import http from 'node:http';
import { listenNode, type Listening } from '@mcp-gateway/testkit';

/**
 * A loopback reverse proxy that adds `Authorization: Bearer <token>` to every
 * request and otherwise passes requests and responses through untouched and
 * streaming (SSE included; `Host`, `Origin` and every other header as the
 * client sent them). The suite 0.1.16 has no option for extra request headers,
 * so this is how its server scenarios reach a token-protected MCP endpoint.
 */
export async function startBearerProxy(target: string, token: string): Promise<Listening> {
  const upstream = new URL(target);
  return listenNode((req, res) => {
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Flush headers at once: an SSE stream may stay quiet for a while.
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // A client that goes away (the suite closing an SSE stream) ends the upstream request too.
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
}
