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

/** A request-line path that `new URL` would leave as it is: `/`-led segments of unreserved characters. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)*\/?$/;

/** What {@link publicAddress} reads of a request. */
export interface RequestParts {
  /** The request URL: absolute, or the path and query of the request line. */
  url: string;
  /** A header by lower-case name. */
  header(name: string): string | null | undefined;
  /** Peer address of the TCP connection. */
  remoteAddress: string;
}

/**
 * The public origin and client address of a request. With `trustProxy`,
 * `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` (first hop)
 * are believed; without it they are ignored and the issuer's scheme is used.
 */
export function publicRequest(
  request: Request,
  remoteAddress: string | undefined,
  trustProxy: boolean,
  issuer: URL,
): PublicRequest {
  return publicAddress(
    {
      url: request.url,
      header: (name) => request.headers.get(name),
      remoteAddress: remoteAddress ?? '',
    },
    trustProxy,
    issuer,
  );
}

/** {@link publicRequest} for any {@link RequestParts}. */
export function publicAddress(req: RequestParts, trustProxy: boolean, issuer: URL): PublicRequest {
  // A plain request path (the usual case) is its own pathname; anything URL parsing could change goes through URL.
  const plain = PLAIN_PATH.test(req.url);
  const url = plain ? undefined : new URL(req.url, 'http://localhost');
  let proto = issuer.protocol.replace(':', '');
  let host = (req.header('host') ?? url?.host ?? 'localhost').toLowerCase();
  let clientIp = req.remoteAddress;
  if (trustProxy) {
    const fp = req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    if (fp === 'http' || fp === 'https') proto = fp;
    const fh = req.header('x-forwarded-host')?.split(',')[0]?.trim().toLowerCase();
    if (fh && /^[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:.]+\](:\d+)?$/.test(fh)) host = fh;
    const ff = req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (ff) clientIp = ff;
  }
  // Drop a default port so https://h:443 and https://h compare equal.
  host = host.replace(proto === 'https' ? /:443$/ : /:80$/, '');
  return { origin: `${proto}://${host}`, host, pathname: url ? url.pathname : req.url, clientIp };
}

/**
 * The URL the client addressed (scheme, host, path; no query), as a DPoP
 * proof's `htu` must name it (RFC 9449 §4.3): behind a trusted proxy, built
 * from the forwarded headers {@link publicAddress} believed.
 */
export const addressedUrl = (pub: PublicRequest): string => `${pub.origin}${pub.pathname}`;
