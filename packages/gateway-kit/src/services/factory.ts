import type { Clock, Store } from '@mcp-gateway/oauth-dynamicclient';
import type { Logger } from '../ops/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { UpstreamSignIn } from '../upstream/sign-in.js';
import type { BackendFactory } from './registry.js';
import { fetchBackend } from './fetch.js';
import { httpBackend } from './http.js';
import { RuntimeHttpGuard } from './runtime-http.js';
import { stdioBackend, type StdioBackendOptions } from './stdio.js';

/**
 * The backend factory for the three service types; `stdio` gets the
 * gateway-wide stdio options, `http` the upstream sign-in (for `oauth`
 * credentials) and the store its session bindings live in, `fetch` the
 * telemetry (spans of the tool's outgoing requests). An `http` service added at
 * runtime sends through `runtimeHttp`'s guarded fetch (default: public addresses
 * only, the system resolver); config-file ones through global fetch. `clock` is the time source
 * of the `http` services' session bindings (default: the wall clock; see `CreateGatewayOptions.clock`).
 */
export function defaultBackendFactory(
  log: Logger,
  stdio: StdioBackendOptions = {},
  signIn?: UpstreamSignIn,
  telemetry?: Telemetry,
  store?: Store,
  runtimeHttp: RuntimeHttpGuard = new RuntimeHttpGuard(),
  clock?: Clock,
): BackendFactory {
  return (name, config, mcpPath, origin = 'config') => {
    switch (config.type) {
      case 'stdio':
        return stdioBackend(name, config, log, mcpPath, stdio);
      case 'http':
        return httpBackend(
          name,
          config,
          signIn,
          store,
          origin === 'runtime' ? runtimeHttp : undefined,
          clock,
        );
      case 'fetch':
        return fetchBackend(name, config, log, mcpPath, telemetry);
    }
  };
}
