import type { AddressClassification } from '@mcp-gateway/internal/address-class';
import {
  bareHostname,
  guardedFetch,
  resolveAllowed,
  systemResolver,
  type AddressRule,
  type ResolvedAddress,
  type Resolver,
  type UpstreamFetch,
} from '../http/address-guard.js';

/**
 * Where `http` services added through the admin API may lead. An admin who may add a service
 * reads its replies through the gateway, so without a rule an admin would get the gateway's
 * network: loopback ports, the private network, the cloud metadata endpoint. Services from the
 * config file are the operator's and are not checked.
 *
 * - `allowPrivate` off (default, `admin.allowPrivateHttpServices: false`): public addresses only.
 * - `allowPrivate` on: any address except the cloud metadata endpoints (169.254.169.254,
 *   fd00:ec2::254, 168.63.129.16, ...), which no MCP server lives at.
 */
export function runtimeHttpRule(allowPrivate: boolean): AddressRule {
  return allowPrivate
    ? (c: AddressClassification) => c.range !== 'cloudMetadata'
    : (c: AddressClassification) => c.isPublic;
}

/**
 * The guarded path of runtime `http` services: the admin API checks a new service's URL with
 * {@link RuntimeHttpGuard.check}, and their reverse proxies send every request through
 * {@link RuntimeHttpGuard.fetch}, which resolves and checks again on each connection (DNS may
 * have changed since) and connects only to the checked addresses.
 */
export class RuntimeHttpGuard {
  readonly rule: AddressRule;
  /** The upstream fetch of runtime `http` services (undici, loaded on first use). */
  readonly fetch: UpstreamFetch;

  constructor(
    /** `admin.allowPrivateHttpServices`. */
    readonly allowPrivate = false,
    private readonly resolver: Resolver = systemResolver,
  ) {
    this.rule = runtimeHttpRule(allowPrivate);
    this.fetch = guardedFetch(resolver, this.rule);
  }

  /**
   * Resolves the host of `url` now and checks every address; returns them all.
   *
   * @throws {import('../http/address-guard.js').AddressRefusedError} an address the rule refuses;
   *   or the resolver's error (`ENOTFOUND`, ...).
   */
  check(url: URL): Promise<ResolvedAddress[]> {
    return resolveAllowed(bareHostname(url), this.resolver, this.rule);
  }
}
