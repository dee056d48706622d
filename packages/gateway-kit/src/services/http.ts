import type { HttpServiceConfig } from '../config/schema.js';
import type { Identity } from '../identity.js';
import { HttpServiceProxy } from '../proxy/http-proxy.js';
import type { BackendCall, ServiceBackend } from './backend.js';
import { forwardedRequest } from './forwarded-request.js';

/** An `http` service: the reverse proxy to its upstream. */
export function httpBackend(name: string, config: HttpServiceConfig): ServiceBackend {
  const proxy = new HttpServiceProxy(name, config);
  return {
    kind: 'http',
    handle: (request: Request, identity: Identity, call: BackendCall = {}) =>
      proxy.handle(forwardedRequest(request, call.body), identity, call.body, call.info?.signal),
    ready: () => proxy.ready(),
    close: async () => {},
  };
}
