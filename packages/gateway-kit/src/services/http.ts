import type { HttpServiceConfig } from '../config/schema.js';
import type { AddressRule, UpstreamFetch } from '../http/address-guard.js';
import type { Identity } from '../identity.js';
import { HttpServiceProxy } from '../proxy/http-proxy.js';
import type { UpstreamSignIn } from '../upstream/sign-in.js';
import type { BackendCall, ServiceBackend } from './backend.js';
import { forwardedRequest } from './forwarded-request.js';

/**
 * An `http` service: the reverse proxy to its upstream (with the users' own upstream tokens under
 * `oauth` credentials). `guard`: for a service added through the admin API, the guarded upstream
 * fetch and its address rule, which its upstream sign-in keeps too (default: global fetch, no rule).
 */
export function httpBackend(
  name: string,
  config: HttpServiceConfig,
  signIn?: UpstreamSignIn,
  guard?: { fetch: UpstreamFetch; rule: AddressRule },
): ServiceBackend {
  const cred = config.credentials;
  const upstream =
    cred?.type === 'oauth' && signIn
      ? signIn.source(name, { url: config.url, ...cred, addressRule: guard?.rule })
      : undefined;
  const proxy = new HttpServiceProxy(name, config, {
    ...(upstream ? { upstream } : {}),
    ...(guard ? { fetch: guard.fetch } : {}),
  });
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
