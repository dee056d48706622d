import type { AddressClassification, AddressRange } from '@mcp-gateway/internal/address-class';
import {
  AddressRefusedError,
  bareHostname,
  resolveAllowed,
  resolveClassified,
  type AddressRule,
  type Resolver,
} from '../http/address-guard.js';

/**
 * How far inside a network an address range reaches, from 0 (public) to 5 (never a server):
 * the private network, then the local link, then this host, then the cloud metadata endpoint.
 */
const REACH: Record<AddressRange, number> = {
  public: 0,
  private: 1,
  carrierGradeNat: 1,
  uniqueLocal: 1,
  reserved: 1,
  linkLocal: 2,
  loopback: 3,
  unspecified: 3, // 0.0.0.0 and :: connect to this host
  cloudMetadata: 4,
  multicast: 5,
  broadcast: 5,
  invalid: 5,
};

/** The reach of one classified address (see {@link REACH}). */
export function reachOf(c: AddressClassification): number {
  return REACH[c.range];
}

/**
 * The reach of the upstream the operator configured: the least internal of the addresses its host
 * resolves to (a host with one public and one loopback address counts as public).
 */
export async function configuredReach(url: URL, resolver: Resolver): Promise<number> {
  const { classified } = await resolveClassified(bareHostname(url), resolver);
  return Math.min(...classified.map(reachOf));
}

/**
 * The rule for every host an upstream's OAuth metadata names (its authorization server, token,
 * registration, revocation and authorization endpoints): no address may reach further inside
 * than the configured upstream itself. A public upstream cannot send the gateway to 10.0.0.0/8,
 * loopback or 169.254.169.254; an upstream on loopback may name loopback endpoints.
 */
export function withinReach(ceiling: number): AddressRule {
  return (c) => reachOf(c) <= ceiling;
}

/** The {@link AddressRefusedError} of a metadata-named endpoint, said for the log. */
export function endpointRefusal(field: string, url: string, err: AddressRefusedError): string {
  return `the upstream's ${field} ${new URL(url).origin} is refused: ${err.message}, further inside the network than the configured upstream`;
}

/** The endpoints of RFC 8414 metadata the gateway (or the user's browser) is sent to. */
export const NAMED_ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'revocation_endpoint',
] as const;

/**
 * The first endpoint of authorization server `metadata` whose host resolves to an address `rule`
 * refuses, as a sentence ({@link endpointRefusal}); `undefined` when all are within reach. An
 * endpoint on `ownOrigin` (the configured upstream's) is not checked: the operator chose it. A host
 * that does not resolve here is left to the connection (which checks again); the authorization
 * endpoint is where the user's browser goes, checked all the same.
 */
export async function refusedEndpoint(
  metadata: Partial<Record<(typeof NAMED_ENDPOINTS)[number], unknown>>,
  rule: AddressRule,
  resolver: Resolver,
  ownOrigin?: string,
): Promise<string | undefined> {
  for (const field of NAMED_ENDPOINTS) {
    const value = metadata[field];
    if (typeof value !== 'string' || !URL.canParse(value)) continue;
    if (new URL(value).origin === ownOrigin) continue; // the configured upstream's own origin
    try {
      await resolveAllowed(bareHostname(new URL(value)), resolver, rule);
    } catch (err) {
      if (err instanceof AddressRefusedError) return endpointRefusal(field, value, err);
    }
  }
  return undefined;
}
