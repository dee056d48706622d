import type { IdentityProvider, UpstreamIdentity } from '@mcp-gateway/oauth-dynamicclient';

/**
 * Wraps an identity provider so that `onLogin` hears of every successful
 * sign-in (the `login.succeeded` webhook and log line). Nothing else changes
 * (`thirdParty` and `displayName` pass through):
 * every `/callback` goes to the wrapped provider.
 */
export function observeLogins(
  inner: IdentityProvider,
  onLogin: (identity: UpstreamIdentity) => void,
): IdentityProvider {
  return {
    id: inner.id,
    ...(inner.thirdParty !== undefined ? { thirdParty: inner.thirdParty } : {}),
    ...(inner.displayName !== undefined ? { displayName: inner.displayName } : {}),
    attach: (c) => inner.attach?.(c),
    routes: () => inner.routes?.() ?? [],
    begin: (input) => inner.begin(input),
    async complete(input) {
      const identity = await inner.complete(input);
      onLogin(identity);
      return identity;
    },
  };
}
