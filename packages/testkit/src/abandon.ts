import { once } from 'node:events';
import type http from 'node:http';
import net from 'node:net';

/**
 * A client that leaves in the middle of its body: sends `POST path` whose
 * `Content-Length` promises more bytes than `body` holds, waits until
 * `server` has the request, closes the connection, and resolves with the
 * server's side of the exchange once its response has closed.
 */
export async function abandonMidBody(
  server: http.Server,
  opts: { path: string; headers: Record<string, string>; body: string },
): Promise<{ req: http.IncomingMessage; res: http.ServerResponse }> {
  const { port } = server.address() as net.AddressInfo;
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const arrived = once(server, 'request') as Promise<[http.IncomingMessage, http.ServerResponse]>;
  const head = [
    `POST ${opts.path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...Object.entries(opts.headers).map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${Buffer.byteLength(opts.body) + 100}`,
  ];
  sock.write(`${head.join('\r\n')}\r\n\r\n${opts.body}`);
  const [req, res] = await arrived;
  const closed = once(res, 'close');
  sock.destroy();
  await closed;
  return { req, res };
}
