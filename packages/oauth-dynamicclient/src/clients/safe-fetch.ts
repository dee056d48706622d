import type { LookupAddress } from 'node:dns';
import { isAddressAllowed, type AddressPolicy } from './address-classifier.js';

/** Resolves a host name to addresses. Injectable so tests never touch real DNS. */
export type DnsResolver = (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;

/** The system resolver (`dns.lookup` with every address). */
export const systemResolver: DnsResolver = async (hostname) => {
  const { lookup } = await import('node:dns/promises');
  const all = await lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A fetched document, already size-capped. */
export interface FetchedDocument {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * Why an outbound fetch was refused or failed. `message` is safe to show to
 * anonymous callers: it never names an address the host resolved to or a
 * socket error text. `detail` holds those facts for the server's own log.
 */
export class SafeFetchError extends Error {
  override readonly name = 'SafeFetchError';
  constructor(
    message: string,
    /** Facts for the structured log only (resolved address, socket error); never sent to clients. */
    readonly detail: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface SafeFetchOptions extends AddressPolicy {
  resolver: DnsResolver;
  timeoutMs: number;
  maxBytes: number;
}

/**
 * GETs `url` without following redirects, refusing to connect to any address
 * the policy forbids. The check runs inside the socket's DNS lookup, so the
 * address that is checked is the address that is connected to (no
 * DNS-rebinding window). IP-literal hosts are checked before connecting.
 */
export async function safeFetch(url: URL, opts: SafeFetchOptions): Promise<FetchedDocument> {
  const { isIP } = await import('node:net');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) && !isAddressAllowed(host, opts)) {
    throw new SafeFetchError('refusing to fetch from a non-public address', { address: host });
  }
  const mod = url.protocol === 'https:' ? await import('node:https') : await import('node:http');

  type LookupCallback = (
    err: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void;
  const lookup = (hostname: string, options: { all?: boolean }, cb: LookupCallback): void => {
    opts.resolver(hostname).then(
      (addresses) => {
        if (addresses.length === 0) return cb(new SafeFetchError(`no address for ${hostname}`), []);
        const bad = addresses.find((a) => !isAddressAllowed(a.address, opts));
        if (bad)
          return cb(
            new SafeFetchError(`${hostname} resolves to a non-public address`, { address: bad.address }),
            [],
          );
        if (options.all) return cb(null, addresses);
        return cb(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: unknown) =>
        cb(new SafeFetchError(`cannot resolve ${hostname}`, { errorMessage: String(err) }), []),
    );
  };

  return new Promise<FetchedDocument>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      reject(
        err instanceof SafeFetchError
          ? err
          : new SafeFetchError(`fetch failed${code && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''}`, {
              errorMessage: err.message,
            }),
      );
    };
    const timer = setTimeout(
      () => fail(new SafeFetchError(`timed out after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json', 'user-agent': 'mcp-gateway-oauth/1' },
        lookup: lookup,
        agent: false,
      },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > opts.maxBytes) {
          return fail(new SafeFetchError(`document exceeds ${opts.maxBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes)
            return fail(new SafeFetchError(`document exceeds ${opts.maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === 'string') headers.set(k, v);
            else if (Array.isArray(v)) for (const item of v) headers.append(k, item);
          }
          resolve({ status: res.statusCode ?? 0, headers, body: new Uint8Array(Buffer.concat(chunks)) });
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}
