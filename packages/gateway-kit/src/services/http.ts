import { MemoryStore, systemClock, type Clock, type Store } from '@mcp-gateway/oauth-dynamicclient';
import type { HttpServiceConfig } from '../config/schema.js';
import type { AddressRule, UpstreamFetch } from '../http/address-guard.js';
import type { Identity } from '../identity.js';
import { HttpServiceProxy } from '../proxy/http-proxy.js';
import type { UpstreamSignIn } from '../upstream/sign-in.js';
import type { BackendCall, ServiceBackend } from './backend.js';
import { forwardedRequest } from './forwarded-request.js';
import {
  END_DEADLINE_MS,
  endSessionRequest,
  HttpSessionOwners,
  serveOwnedSession,
} from './http-session-owners.js';

/**
 * An `http` service: the reverse proxy to its upstream (with the users' own upstream tokens under
 * `oauth` credentials). Its 2025 sessions are bound to the users who opened them, in `store`
 * (shared by the instances on it; default: this process's memory). `guard`: for a service added
 * through the admin API, the guarded upstream fetch and its address rule, which its upstream
 * sign-in keeps too (default: global fetch, no rule). `clock`: the time source of the session
 * bindings' idle times (default: the wall clock; tests move a `ManualClock` instead of sleeping).
 */
export function httpBackend(
  name: string,
  config: HttpServiceConfig,
  signIn?: UpstreamSignIn,
  store: Store = new MemoryStore(),
  guard?: { fetch: UpstreamFetch; rule: AddressRule },
  clock: Clock = systemClock,
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
  /** Ends `sessionId` at the upstream as `identity` (a `DELETE`, its answer dropped). */
  const end = async (sessionId: string, identity: Identity, signal: AbortSignal, version?: string | null) => {
    const res = await proxy.handle(
      endSessionRequest(config.url, sessionId, version),
      identity,
      undefined,
      signal,
    );
    await res.body?.cancel();
  };
  const owners = new HttpSessionOwners(
    store,
    name,
    {
      maxSessions: config.maxSessions,
      maxSessionsPerUser: config.maxSessionsPerUser,
      idleMs: config.sessionTimeout * 1000,
    },
    // An evicted or expired session is ended as its owner (with the owner's upstream token under `oauth`).
    {
      end: (sessionId, sub, signal) => end(sessionId, { sub, scopes: [] }, signal),
      now: () => clock.now(),
    },
  );
  return {
    kind: 'http',
    handle: (request: Request, identity: Identity, call: BackendCall = {}) =>
      serveOwnedSession(owners, request, identity.sub, {
        forward: () =>
          proxy.handle(
            forwardedRequest(request, call.body),
            identity,
            call.body,
            call.info?.signal,
            call.trace,
          ),
        end: (id) =>
          end(
            id,
            identity,
            AbortSignal.timeout(END_DEADLINE_MS),
            request.headers.get('mcp-protocol-version'),
          ),
      }),
    ready: () => proxy.ready(),
    close: async () => {
      await owners.settled();
      if (upstream) signIn?.remove(name);
    },
  };
}
