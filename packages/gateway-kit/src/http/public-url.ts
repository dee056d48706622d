import { connectionInfo } from './node.js';

/** How the client addressed the gateway, after `trustProxy`. */
export interface PublicRequest {
  /** `https://fetch.example.com` style origin, lowercased host. */
  origin: string;
  host: string;
  /** The request path. */
  pathname: string;
  /** Client IP (X-Forwarded-For's first entry when trusted, else the socket peer). */
  clientIp: string;
}

/**
 * The public origin and client address of a request. With `trustProxy`,
 * `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` (first hop)
 * are believed; without it they are ignored and the issuer's scheme is used.
 */
export function publicRequest(request: Request, trustProxy: boolean, issuer: URL): PublicRequest {
  const url = new URL(request.url);
  let proto = issuer.protocol.replace(':', '');
  let host = (request.headers.get('host') ?? url.host).toLowerCase();
  let clientIp = connectionInfo(request)?.remoteAddress ?? '';
  if (trustProxy) {
    const fp = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    if (fp === 'http' || fp === 'https') proto = fp;
    const fh = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim().toLowerCase();
    if (fh && /^[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:.]+\](:\d+)?$/.test(fh)) host = fh;
    const ff = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    if (ff) clientIp = ff;
  }
  // Drop a default port so https://h:443 and https://h compare equal.
  host = host.replace(proto === 'https' ? /:443$/ : /:80$/, '');
  return { origin: `${proto}://${host}`, host, pathname: url.pathname, clientIp };
}
