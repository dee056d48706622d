import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError } from '../errors.js';

/** One request that reached the callback path. */
export interface CallbackHit {
  /** The full callback URL, with the authorization response in its query. */
  url: URL;
  /** Answers the browser with a small page; call exactly once. */
  respond(ok: boolean, message: string): void;
}

/** A running loopback redirect-URI server (RFC 8252 §7.3). */
export interface CallbackServer {
  redirectUri: string;
  port: number;
  /** Resolves with the first request to the callback path; rejects after `timeoutMs`. */
  next(timeoutMs: number): Promise<CallbackHit>;
  close(): Promise<void>;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(ok: boolean, message: string): string {
  const title = ok ? 'Signed in' : 'Sign-in failed';
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${escapeHtml(message)}</p><p>You can close this tab.</p></body></html>`;
}

async function listenOn(host: string, port: number, server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Starts the loopback callback server on `127.0.0.1`. `port` 0 means any free
 * port. When the port is busy and `fallbackToFreePort` is set, a free port is
 * used instead (the caller then makes sure the redirect URI is registered);
 * otherwise a clear {@link AuthError} says the port is taken.
 */
export async function startCallbackServer(opts: {
  port?: number;
  fallbackToFreePort?: boolean;
  host?: string;
  path?: string;
}): Promise<CallbackServer> {
  const host = opts.host ?? '127.0.0.1';
  const cbPath = opts.path ?? '/callback';
  const waiting: Array<(hit: CallbackHit) => void> = [];
  const queued: CallbackHit[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (req.method !== 'GET' || url.pathname !== cbPath) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    let answered = false;
    const hit: CallbackHit = {
      url: new URL(req.url ?? '/', redirectUri),
      respond(ok, message) {
        if (answered) return;
        answered = true;
        res
          .writeHead(ok ? 200 : 400, {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            'content-security-policy': "default-src 'none'",
          })
          .end(page(ok, message));
      },
    };
    const waiter = waiting.shift();
    if (waiter) waiter(hit);
    else queued.push(hit);
  });
  let port: number;
  try {
    port = await listenOn(host, opts.port ?? 0, server);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' && opts.fallbackToFreePort) {
      port = await listenOn(host, 0, server);
    } else if (code === 'EADDRINUSE') {
      throw new AuthError(
        'callback_port_busy',
        `callback port ${opts.port} on ${host} is in use; free it or pass another --callback-port`,
        {
          cause: err,
        },
      );
    } else {
      throw err;
    }
  }
  const redirectUri = `http://${host}:${port}${cbPath}`;
  return {
    redirectUri,
    port,
    next(timeoutMs) {
      const q = queued.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiting.indexOf(onHit);
          if (i >= 0) waiting.splice(i, 1);
          reject(
            new AuthError(
              'timeout',
              `no authorization response within ${Math.round(timeoutMs / 1000)} s (--auth-timeout)`,
            ),
          );
        }, timeoutMs);
        const onHit = (hit: CallbackHit) => {
          clearTimeout(timer);
          resolve(hit);
        };
        waiting.push(onHit);
      });
    },
    close() {
      for (const q of queued.splice(0)) q.respond(false, 'This sign-in attempt is over.');
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
