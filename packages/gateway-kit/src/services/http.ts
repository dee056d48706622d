import type { HttpServiceConfig } from '../config/schema.js';
import type { Identity } from '../identity.js';
import { HttpServiceProxy } from '../proxy/http-proxy.js';
import type { UpstreamSignIn } from '../upstream/sign-in.js';
import type { BackendCall, ServiceBackend } from './backend.js';
import { forwardedRequest } from './forwarded-request.js';

/** An `http` service: the reverse proxy to its upstream (with the users' own upstream tokens under `oauth` credentials). */
export function httpBackend(
  name: string,
  config: HttpServiceConfig,
  signIn?: UpstreamSignIn,
): ServiceBackend {
  const cred = config.credentials;
  const upstream =
    cred?.type === 'oauth' && signIn ? signIn.source(name, { url: config.url, ...cred }) : undefined;
  const proxy = new HttpServiceProxy(name, config, upstream ? { upstream } : {});
  return {
    kind: 'http',
    handle: (request: Request, identity: Identity, call: BackendCall = {}) =>
      proxy.handle(forwardedRequest(request, call.body), identity, call.body, call.info?.signal, call.trace),
    ready: () => proxy.ready(),
    close: async () => {
      if (upstream) signIn?.remove(name);
    },
  };
}
