import { isIP } from 'node:net';
import { FetchError } from '../errors.js';
import type { AllowList } from './allow-list.js';
import { describeAddressKind } from '@mcp-gateway/internal/address-class';
import { bareHostname } from '@mcp-gateway/internal/host';
import { addressesOf, firstRefused } from '@mcp-gateway/internal/host-check';
import type { ResolvedAddress, Resolver } from './resolver.js';

/** A URL together with the one address that was checked and must be connected to. */
export interface PinnedTarget {
  url: URL;
  /** Host name without IPv6 brackets, as used for SNI and certificate checks. */
  hostname: string;
  address: string;
  family: 4 | 6;
}

/**
 * Resolves the URL's host exactly once and checks every address it resolves
 * to. If any address is internal (and not allow-listed) the URL is refused:
 * a name with one public and one private record is not safe to follow. The
 * first address is returned so the caller connects to it and nothing else.
 * Error messages never name an address the host name resolved to (only a
 * literal IP in the URL is described); a refusal carries it in
 * {@link FetchError.address} for the operator's log.
 *
 * @throws {FetchError} `dns_failed` or `blocked_address`
 */
export async function resolvePinned(
  url: URL,
  resolver: Resolver,
  allowList: AllowList,
): Promise<PinnedTarget> {
  const hostname = bareHostname(url);
  let addresses: ResolvedAddress[];
  try {
    addresses = await addressesOf(hostname, resolver);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FetchError('dns_failed', `Could not resolve host ${hostname}${code ? ` (${code})` : ''}`, {
      cause: err,
    });
  }
  if (addresses.length === 0) throw new FetchError('dns_failed', `Could not resolve host ${hostname}`);
  const refused = allowList.allowsHost(hostname)
    ? undefined
    : firstRefused(addresses, (c) => c.isPublic || allowList.allowsAddress(c.address));
  if (refused) {
    const { address } = refused.resolved;
    // Only a literal IP is described: the caller typed it (or a redirect named it). What a
    // name resolves to stays in the log, or the tool would read internal DNS for anyone.
    const what =
      address === hostname
        ? `${hostname} is ${describeAddressKind(refused.classification)}`
        : `${hostname} resolves to a non-public address`;
    throw new FetchError(
      'blocked_address',
      `Refused to fetch ${url.origin}: ${what}. Requests to internal networks are blocked (SSRF protection).`,
      { address },
    );
  }
  const first = addresses[0]!;
  // Connect only to a literal IP, so the socket layer never resolves anything.
  const kind = isIP(first.address);
  if (kind === 0) {
    throw new FetchError('dns_failed', `Resolver returned a non-IP address for ${hostname}`);
  }
  return { url, hostname, address: first.address, family: kind === 6 ? 6 : 4 };
}
