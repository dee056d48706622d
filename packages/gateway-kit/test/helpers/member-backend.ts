// What the federated member tests hand `memberRequest`: a service entry and a caller, and the
// parts of an in-process `ServiceBackend` a test does not care about.
import type { ServiceBackend } from '../../src/services/backend.js';
import type { ServiceEntry } from '../../src/services/registry.js';

/** A stdio service entry named `name` (only what a member request reads). */
export const memberEntry = (name: string): ServiceEntry =>
  ({
    name,
    config: { type: 'stdio' },
    route: { resource: `http://127.0.0.1/${name}/mcp` },
  }) as unknown as ServiceEntry;

/** The caller of the member tests. */
export const alice = { sub: 'local:alice', scopes: [] };

/** A stdio `ServiceBackend` whose requests `handle` serves (always ready, nothing to close). */
export const inProcessBackend = (
  handle: ServiceBackend['handle'],
  flags: Pick<ServiceBackend, 'observesResponses' | 'readsJson'> = {},
): ServiceBackend => ({
  kind: 'stdio',
  ...flags,
  handle,
  ready: () => Promise.resolve(true),
  close: () => Promise.resolve(),
});
