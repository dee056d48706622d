/** Refused by the upstream authorization server, or it could not be reached: the reason is for the user's page. */
export class UpstreamOAuthError extends Error {
  override readonly name: string = 'UpstreamOAuthError';
}

/**
 * The upstream's authorization server names an `authorization_endpoint` the user's browser may not
 * be sent to (MCP security best practices, "OAuth Authorization URL Validation"): only `https:`, or
 * `http:` on a loopback host. Its metadata is refused when it is discovered (nothing is registered
 * there) and the URL again before any redirect.
 */
export class UpstreamAuthorizationUrlRefused extends UpstreamOAuthError {
  override readonly name = 'UpstreamAuthorizationUrlRefused';
  constructor(
    /** The authorization server whose metadata names it. */
    readonly issuer: string,
    /** The scheme refused (`javascript:`, `file:`, …), or `undefined` when the value is no URL. */
    readonly scheme: string | undefined,
    /** Whether it is `http:` on a host that is not loopback. */
    remoteHttp = false,
  ) {
    super(
      remoteHttp
        ? `${issuer} names an authorization_endpoint with the scheme "http:" on a host that is not loopback; only https: URLs, or http: on a loopback host (localhost, 127.0.0.0/8, [::1]), are allowed`
        : `${issuer} names an authorization_endpoint ${scheme ? `with the scheme "${scheme}"` : 'that is not a URL'}; only https: URLs, or http: on a loopback host, are allowed`,
    );
  }
}

/**
 * An endpoint the upstream's metadata names (its authorization server, token endpoint, …) resolves
 * further inside the network than the configured upstream may lead the gateway. Not a refusal of
 * the user's grant (DNS may say otherwise a minute later): the user's tokens are kept.
 */
export class UpstreamEndpointRefused extends Error {
  override readonly name = 'UpstreamEndpointRefused';
}

/**
 * What the gateway holds is bound to another authorization server than the one the upstream
 * names now (MCP authorization, "Authorization Server Binding"): a user's tokens, a sign-in in
 * progress, or the client configured by hand. Nothing of it is sent to the current one; tokens
 * are forgotten (the user connects again).
 */
export class UpstreamIssuerMismatch extends UpstreamOAuthError {
  override readonly name = 'UpstreamIssuerMismatch';
  constructor(
    /** What it is bound to (`undefined`: a token record of an earlier version, bound to none). */
    readonly bound: string | undefined,
    /** The authorization server the upstream names now. */
    readonly current: string,
    what: string,
  ) {
    super(
      `${what} ${bound ? `belongs to ${bound}` : 'names no authorization server'}, but the upstream's is ${current} now`,
    );
  }
}
