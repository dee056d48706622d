import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import type { ServiceConfig } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { UpstreamSignIn } from '../upstream/sign-in.js';
import type { BackendFactory } from './registry.js';
import { fetchBackend } from './fetch.js';
import { httpBackend } from './http.js';
import { stdioBackend, type StdioBackendOptions } from './stdio.js';

/**
 * The backend factory for the three service types; `stdio` gets the
 * gateway-wide stdio options, `http` the upstream sign-in (for `oauth`
 * credentials) and the store its session bindings live in, `fetch` the
 * telemetry (spans of the tool's outgoing requests).
 */
export function defaultBackendFactory(
  log: Logger,
  stdio: StdioBackendOptions = {},
  signIn?: UpstreamSignIn,
  telemetry?: Telemetry,
  store?: Store,
): BackendFactory {
  return (name: string, config: ServiceConfig, mcpPath: string) => {
    switch (config.type) {
      case 'stdio':
        return stdioBackend(name, config, log, mcpPath, stdio);
      case 'http':
        return httpBackend(name, config, signIn, store);
      case 'fetch':
        return fetchBackend(name, config, log, mcpPath, telemetry);
    }
  };
}
