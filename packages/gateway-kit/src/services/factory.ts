import type { ServiceConfig } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';
import type { BackendFactory } from './registry.js';
import { fetchBackend } from './fetch.js';
import { httpBackend } from './http.js';
import { stdioBackend } from './stdio.js';

/** The backend factory for the three service types. */
export function defaultBackendFactory(log: Logger): BackendFactory {
  return (name: string, config: ServiceConfig, mcpPath: string) => {
    switch (config.type) {
      case 'stdio':
        return stdioBackend(name, config, log, mcpPath);
      case 'http':
        return httpBackend(name, config);
      case 'fetch':
        return fetchBackend(name, config, log, mcpPath);
    }
  };
}
