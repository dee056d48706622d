import * as oauth from 'oauth4webapi';

/**
 * The parameters of a `Bearer` challenge in `WWW-Authenticate` (RFC 6750 §3,
 * RFC 9728 §5.1), or of a `DPoP` one (RFC 9449 §7.1: the same parameters).
 */
export interface BearerChallenge {
  /** `error`, e.g. `invalid_token` or `insufficient_scope`. */
  error?: string;
  error_description?: string;
  /** Space-separated scopes the resource needs. */
  scope?: string;
  /** RFC 9728 protected-resource metadata URL. */
  resource_metadata?: string;
  realm?: string;
}

/**
 * Reads the `Bearer` challenge of a response's `WWW-Authenticate` header.
 *
 * The header grammar (RFC 9110 §11.6.1: several challenges, quoted strings with
 * escapes, token68) is parsed by oauth4webapi; it exposes its parser through
 * `protectedResourceRequest`, which throws a `WWWAuthenticateChallengeError`
 * carrying the parsed challenges. We hand it the response we already have.
 * Returns `undefined` when there is neither a Bearer nor a DPoP challenge
 * (the Bearer one wins when a server sends both).
 */
export async function parseBearerChallenge(response: Response): Promise<BearerChallenge | undefined> {
  if (!response.headers.has('www-authenticate')) return undefined;
  const headersOnly = new Response(null, { status: response.status, headers: response.headers });
  try {
    await oauth.protectedResourceRequest(
      '-',
      'GET',
      new URL('http://challenge.invalid/'),
      undefined,
      undefined,
      {
        [oauth.customFetch]: async () => headersOnly,
        [oauth.allowInsecureRequests]: true,
      },
    );
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) {
      const bearer =
        err.cause.find((c) => c.scheme === 'bearer') ?? err.cause.find((c) => c.scheme === 'dpop');
      if (!bearer) return undefined;
      const out: BearerChallenge = {};
      for (const key of ['error', 'error_description', 'scope', 'resource_metadata', 'realm'] as const) {
        const v = bearer.parameters[key];
        if (typeof v === 'string') out[key] = v;
      }
      return out;
    }
    throw err;
  }
  return undefined;
}
