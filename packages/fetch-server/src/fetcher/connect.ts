import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { FetchError } from '../errors.js';
import type { PinnedTarget } from '../ssrf/pin.js';

/** Options for opening one connection. */
export interface ConnectOptions {
  /** Give up if the TCP (and TLS) handshake has not finished in this many ms. */
  connectTimeoutMs: number;
  /** Aborts the attempt (total timeout or caller cancel). */
  signal: AbortSignal;
}

/**
 * Opens a socket to the checked address of a {@link PinnedTarget} — never to
 * its host name, so no second DNS lookup can change where the request goes.
 * For `https:` the socket is TLS with SNI and certificate checks against the
 * host name. This is the only function that touches the network; tests
 * inject a spy to prove refused targets never reach it.
 */
export type Connector = (target: PinnedTarget, options: ConnectOptions) => Promise<net.Socket>;

/** Port of a URL, with the scheme's default filled in. */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function guard<T>(
  what: string,
  options: ConnectOptions,
  start: (settle: { ok(v: T): void; fail(e: Error): void }) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let cleanupStart: () => void = () => {};
    const finish = () => {
      done = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
    };
    const settle = {
      ok(v: T) {
        if (done) return;
        finish();
        resolve(v);
      },
      fail(e: Error) {
        if (done) return;
        finish();
        cleanupStart();
        reject(e);
      },
    };
    const timer = setTimeout(
      () =>
        settle.fail(
          new FetchError('timeout', `Connecting to ${what} timed out after ${options.connectTimeoutMs} ms`),
        ),
      options.connectTimeoutMs,
    );
    const onAbort = () => settle.fail(new FetchError('aborted', `Connecting to ${what} was aborted`));
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    cleanupStart = start(settle);
  });
}

/**
 * An error's code, or its message with `address` cut out: socket errors name the address they
 * tried (`connect ECONNREFUSED 10.1.2.3:80`), and caller-visible messages never name the address a
 * host name resolved to.
 */
export function errorDetail(err: unknown, address: string | undefined): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code) return e.code;
  const message = String(e.message ?? err);
  return address ? message.split(address).join('<address>') : message;
}

function connectError(what: string, err: unknown, address?: string): FetchError {
  if (err instanceof FetchError) return err;
  const e = err as NodeJS.ErrnoException;
  const detail = errorDetail(err, address);
  const tlsHint =
    typeof e.code === 'string' && /CERT|SSL|TLS|ALT_NAME/.test(e.code)
      ? 'TLS handshake failed'
      : 'connection failed';
  return new FetchError('connect_failed', `Could not connect to ${what}: ${tlsHint} (${detail})`, {
    cause: err,
    address,
  });
}

function authority(address: string, family: 4 | 6, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function upgradeTls(
  socket: net.Socket,
  target: PinnedTarget,
  options: ConnectOptions,
  what: string,
  ca: string[] | undefined,
) {
  return guard<net.Socket>(what, options, (settle) => {
    // SNI and the certificate check use the host name, never the pinned IP.
    const secure = tls.connect({
      socket,
      host: target.hostname,
      servername: net.isIP(target.hostname) ? undefined : target.hostname,
      ALPNProtocols: ['http/1.1'],
      ...(ca ? { ca } : {}),
    });
    // A TLS socket layered on a tunnel does not always tear the tunnel down with it.
    secure.once('close', () => socket.destroy());
    secure.once('secureConnect', () => settle.ok(secure));
    secure.once('error', (err) => settle.fail(connectError(what, err, target.address)));
    return () => secure.destroy();
  });
}

/**
 * The default connector: a direct TCP connection to the pinned address, or,
 * with `proxy`, an HTTP `CONNECT` tunnel through that proxy **to the pinned
 * address** (not the host name), so the proxy cannot re-resolve the name and
 * pinning still holds. TLS runs end-to-end inside the tunnel. `ca` adds
 * trusted certificates (PEM) to Node's root store, for private deployments.
 */
export function createConnector(config: { proxy?: URL; ca?: string[] } = {}): Connector {
  const { proxy } = config;
  // Extra CAs add to Node's bundled roots rather than replacing them.
  const ca = config.ca?.length ? [...tls.rootCertificates, ...config.ca] : undefined;
  return async (target, options) => {
    const port = portOf(target.url);
    // The host as the caller named it, never the address it resolved to (see resolvePinned).
    const what = `${target.url.hostname}:${port}`;
    let socket: net.Socket;
    if (!proxy) {
      socket = await guard<net.Socket>(what, options, (settle) => {
        const s = net.connect({ host: target.address, port, family: target.family });
        s.once('connect', () => settle.ok(s));
        s.once('error', (err) => settle.fail(connectError(what, err, target.address)));
        return () => s.destroy();
      });
    } else {
      socket = await guard<net.Socket>(what, options, (settle) => {
        const headers: Record<string, string> = { host: authority(target.address, target.family, port) };
        if (proxy.username) {
          const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
          headers['proxy-authorization'] = `Basic ${Buffer.from(cred).toString('base64')}`;
        }
        const req = http.request({
          host: proxy.hostname.replace(/^\[|\]$/g, ''),
          port: portOf(proxy),
          method: 'CONNECT',
          path: authority(target.address, target.family, port),
          headers,
          agent: false,
        });
        req.once('connect', (res, s, head) => {
          if (res.statusCode !== 200) {
            s.destroy();
            settle.fail(
              new FetchError(
                'connect_failed',
                `Proxy refused to tunnel to ${what}: HTTP ${res.statusCode ?? '?'}`,
              ),
            );
            return;
          }
          if (head.length) s.unshift(head);
          settle.ok(s);
        });
        req.once('response', (res) => {
          res.resume();
          settle.fail(
            new FetchError(
              'connect_failed',
              `Proxy refused to tunnel to ${what}: HTTP ${res.statusCode ?? '?'}`,
            ),
          );
        });
        req.once('error', (err) => settle.fail(connectError('the proxy', err)));
        req.end();
        return () => req.destroy();
      });
    }
    if (target.url.protocol !== 'https:') return socket;
    return upgradeTls(socket, target, options, what, ca);
  };
}
