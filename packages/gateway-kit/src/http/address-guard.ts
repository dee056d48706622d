// Outgoing connections whose destination address is decided by a rule: the gateway resolves the
// host itself, classifies every address with the repo's one classifier, and connects to the address
// it checked (a socket never resolves a name again, so DNS rebinding cannot move it). Used for the
// upstreams of `http` services added through the admin API and for the endpoints an upstream's
// OAuth metadata names (upstream sign-in).
import { isIP } from 'node:net';
import type * as UndiciModule from 'undici';
import {
  classifyAddress,
  describeRange,
  type AddressClassification,
} from '@mcp-gateway/internal/address-class';
import { hostnameOf } from '@mcp-gateway/internal/host';
import type { ResolvedAddress, Resolver } from '@mcp-gateway/internal/resolver';

// `createGateway(config, { resolver })` takes the same resolver as fetch-server's `resolver` option.
export { systemResolver, type ResolvedAddress, type Resolver } from '@mcp-gateway/internal/resolver';

/** Which addresses a guarded connection may go to: true to allow the classified address. */
export type AddressRule = (c: AddressClassification) => boolean;

/** The fetch of a guarded upstream: a URL (never a `Request`) and the usual init. */
export type UpstreamFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** A host that resolved to an address the rule refuses: nothing was sent to it. */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  constructor(
    /** The host name (or IP literal) that was checked. */
    readonly hostname: string,
    /** The refused address and its range. */
    readonly classification: AddressClassification,
    /** True when `hostname` is the IP literal itself. */
    literal = false,
  ) {
    const range = describeRange(classification);
    const a = /^(unspecified|invalid)/.test(range) ? 'an' : 'a';
    const where = literal ? `${hostname} is` : `${hostname} resolves to ${classification.address},`;
    super(`${where} ${a} ${range} address`);
  }

  /** The range without the address, for callers who should not learn the internal address. */
  get range(): string {
    return describeRange(this.classification);
  }
}

/** The host name of a URL without the brackets of an IPv6 literal. */
export function bareHostname(url: URL): string {
  return hostnameOf(url.host);
}

/**
 * Every address of `hostname` (an IP literal is its own one address), each classified.
 * Throws the resolver's error (e.g. `ENOTFOUND`), or an `ENOTFOUND` error when it found none.
 */
export async function resolveClassified(
  hostname: string,
  resolver: Resolver,
): Promise<{ resolved: ResolvedAddress[]; classified: AddressClassification[] }> {
  const literal = isIP(hostname);
  const resolved: ResolvedAddress[] =
    literal !== 0 ? [{ address: hostname, family: literal === 6 ? 6 : 4 }] : await resolver(hostname);
  if (resolved.length === 0) {
    throw Object.assign(new Error(`could not resolve host ${hostname}`), { code: 'ENOTFOUND' });
  }
  return { resolved, classified: resolved.map((r) => classifyAddress(r.address)) };
}

/**
 * Resolves `hostname` once and checks every address it has: when any is refused by `rule` the
 * host is refused (a name with one public and one private record is not safe to follow). The
 * first address is returned, to connect to it and nothing else.
 *
 * @throws {AddressRefusedError} an address the rule refuses; or the resolver's error.
 */
export async function resolveAllowed(
  hostname: string,
  resolver: Resolver,
  rule: AddressRule,
): Promise<ResolvedAddress> {
  const { resolved, classified } = await resolveClassified(hostname, resolver);
  const refused = classified.find((c) => !rule(c));
  if (refused) throw new AddressRefusedError(hostname, refused, isIP(hostname) !== 0);
  const first = resolved[0]!;
  if (isIP(first.address) === 0) {
    throw Object.assign(new Error(`the resolver returned no IP address for ${hostname}`), {
      code: 'ENOTFOUND',
    });
  }
  return first;
}

type Undici = typeof UndiciModule;
let undici: Promise<Undici> | undefined;

/**
 * A fetch whose every connection goes to an address `rule` allows: each new connection resolves
 * its host with `resolver`, checks every address and connects to the checked one (TLS still
 * verifies the certificate against the host name). Redirects are never followed (`manual`: the
 * 3xx is the answer). A refusal rejects with {@link AddressRefusedError} before anything is sent.
 * undici is loaded on the first request, so a gateway without such upstreams never loads it.
 */
export function guardedFetch(resolver: Resolver, rule: AddressRule): UpstreamFetch {
  let ready: Promise<{ fetch: Undici['fetch']; dispatcher: InstanceType<Undici['Agent']> }> | undefined;
  const load = () =>
    (ready ??= (undici ??= import('undici')).then(({ Agent, buildConnector, fetch }) => {
      const direct = buildConnector({});
      const dispatcher = new Agent({
        // Per connection: resolve, check, connect to the checked address. `host` keeps the name,
        // so SNI and the certificate check use it.
        connect: (options, callback) => {
          resolveAllowed(options.hostname, resolver, rule).then(
            (pinned) => direct({ ...options, hostname: pinned.address }, callback),
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
