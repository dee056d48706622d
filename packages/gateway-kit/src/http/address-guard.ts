// Outgoing connections whose destination address is decided by a rule: the gateway resolves the
// host itself, classifies every address with the repo's one classifier, and connects only to the
// addresses it checked (a socket never resolves a name again, so DNS rebinding cannot move it).
// Used for the upstreams of `http` services added through the admin API and for the endpoints an
// upstream's OAuth metadata names (upstream sign-in). The resolve-and-check core is shared with
// fetch-server (@mcp-gateway/internal/host-check).
import { isIP, type LookupFunction } from 'node:net';
import type * as UndiciModule from 'undici';
import {
  classifyAddress,
  describeAddressKind,
  describeRange,
  type AddressClassification,
} from '@mcp-gateway/internal/address-class';
import { addressesOf, firstRefused } from '@mcp-gateway/internal/host-check';
import type { ResolvedAddress, Resolver } from '@mcp-gateway/internal/resolver';

// `createGateway(config, { resolver })` takes the same resolver as fetch-server's `resolver` option.
export { systemResolver, type ResolvedAddress, type Resolver } from '@mcp-gateway/internal/resolver';
export { bareHostname } from '@mcp-gateway/internal/host';

/** Which addresses a guarded connection may go to: true to allow the classified address. */
export type AddressRule = (c: AddressClassification) => boolean;

/** The fetch of a guarded upstream: a URL (never a `Request`) and the usual init. */
export type UpstreamFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A host that resolved to an address the rule refuses: nothing was sent to it. Its `message` names
 * the address, for the operator's log; {@link AddressRefusedError.range} does not, for callers.
 */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  constructor(
    /** The host name (or IP literal) that was checked. */
    readonly hostname: string,
    /** The refused address and its range. */
    readonly classification: AddressClassification,
    /** True when `hostname` is the IP literal itself. */
    readonly literal = false,
  ) {
    const where = literal ? `${hostname} is` : `${hostname} resolves to ${classification.address},`;
    super(`${where} ${describeAddressKind(classification)}`);
  }

  /**
   * The range without the address, nor the IPv4 address an IPv6 one embeds (`loopback`,
   * `private (RFC 1918)`), for callers who should not learn the internal address.
   */
  get range(): string {
    const { address, range, isPublic } = this.classification;
    return describeRange({ address, range, isPublic });
  }

  /** {@link AddressRefusedError.range} with its article: `a loopback address`, `an unspecified address`. */
  get kind(): string {
    return describeAddressKind(this.classification, { embedded: false });
  }
}

/** Every address of `hostname`; an `ENOTFOUND` error when the resolver found none. */
async function someAddresses(hostname: string, resolver: Resolver): Promise<ResolvedAddress[]> {
  const resolved = await addressesOf(hostname, resolver);
  if (resolved.length === 0) {
    throw Object.assign(new Error(`could not resolve host ${hostname}`), { code: 'ENOTFOUND' });
  }
  return resolved;
}

/**
 * Every address of `hostname` (an IP literal is its own one address), each classified.
 * Throws the resolver's error (e.g. `ENOTFOUND`), or an `ENOTFOUND` error when it found none.
 */
export async function resolveClassified(
  hostname: string,
  resolver: Resolver,
): Promise<{ resolved: ResolvedAddress[]; classified: AddressClassification[] }> {
  const resolved = await someAddresses(hostname, resolver);
  return { resolved, classified: resolved.map((r) => classifyAddress(r.address)) };
}

/**
 * Resolves `hostname` once and checks every address it has: when any is refused by `rule` the
 * host is refused (a name with one public and one private record is not safe to follow). Every
 * address is returned, each an IP the rule allows: connect to these and nothing else.
 *
 * @throws {AddressRefusedError} an address the rule refuses; or the resolver's error, or an
 *   `ENOTFOUND` error when it found nothing or answered something that is not an IP.
 */
export async function resolveAllowed(
  hostname: string,
  resolver: Resolver,
  rule: AddressRule,
): Promise<ResolvedAddress[]> {
  const resolved = await someAddresses(hostname, resolver);
  const refused = firstRefused(resolved, rule);
  if (refused) throw new AddressRefusedError(hostname, refused.classification, isIP(hostname) !== 0);
  if (resolved.some((r) => isIP(r.address) === 0)) {
    throw Object.assign(
      new Error(`the resolver returned something other than an IP address for ${hostname}`),
      {
        code: 'ENOTFOUND',
      },
    );
  }
  return resolved;
}

/**
 * A `net.connect` lookup that resolves with `resolver` and answers only when `rule` allows every
 * address ({@link resolveAllowed}). Asked for all addresses (`autoSelectFamily`, as the guarded
 * fetch's connector asks), it answers every checked one, so a socket tries the next when one does
 * not answer; asked for one, the first. The socket never looks the name up any other way.
 */
export function checkedLookup(resolver: Resolver, rule: AddressRule): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(hostname, resolver, rule).then(
      (addresses) => {
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

type Undici = typeof UndiciModule;
let undici: Promise<Undici> | undefined;

/**
 * A fetch whose every connection goes to an address `rule` allows: each new connection resolves
 * its host with `resolver`, checks every address and connects to the checked ones, trying them in
 * turn (TLS still verifies the certificate against the host name). Redirects are never followed (`manual`: the
 * 3xx is the answer). A refusal rejects with {@link AddressRefusedError} before anything is sent.
 * undici is loaded on the first request, so a gateway without such upstreams never loads it.
 */
export function guardedFetch(resolver: Resolver, rule: AddressRule): UpstreamFetch {
  let ready: Promise<{ fetch: Undici['fetch']; dispatcher: InstanceType<Undici['Agent']> }> | undefined;
  const load = () =>
    (ready ??= (undici ??= import('undici')).then(({ Agent, buildConnector, fetch }) => {
      // A name is looked up by the socket through the checked lookup: every address of the host,
      // each checked, tried in turn (a dead first address does not fail the connection). `host`
      // keeps the name, so SNI and the certificate check use it.
      const direct = buildConnector({ lookup: checkedLookup(resolver, rule), autoSelectFamily: true });
      const dispatcher = new Agent({
        // An IP literal is never looked up, so it is checked here.
        connect: (options, callback) => {
          if (isIP(options.hostname) === 0) return direct(options, callback);
          resolveAllowed(options.hostname, resolver, rule).then(
            () => direct(options, callback),
            (err: Error) => callback(err, null),
          );
        },
      });
      return { fetch, dispatcher };
    }));
  return async (url, init = {}) => {
    const { fetch, dispatcher } = await load();
    try {
      const response = await fetch(url, {
        ...(init as Parameters<Undici['fetch']>[1]),
        redirect: 'manual',
        dispatcher,
      });
      return response as unknown as Response;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw cause instanceof AddressRefusedError ? cause : err;
    }
  };
}
