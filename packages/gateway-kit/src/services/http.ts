import type { HttpServiceConfig } from '../config/schema.js';
import type { Identity } from '../identity.js';
import { HttpServiceProxy } from '../proxy/http-proxy.js';
import type { ServiceBackend } from './backend.js';

/** An `http` service: the reverse proxy to its upstream. */
export function httpBackend(name: string, config: HttpServiceConfig): ServiceBackend {
  const proxy = new HttpServiceProxy(name, config);
  return {
    kind: 'http',
    handle: (request: Request, identity: Identity, body?: string) => proxy.handle(request, identity, body),
    ready: () => proxy.ready(),
    close: async () => {},
  };
}
