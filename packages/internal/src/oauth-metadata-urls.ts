/**
 * Where an MCP client looks for OAuth metadata, in the order the MCP
 * authorization spec gives: the RFC 9728 document of a protected resource
 * and the RFC 8414 / OpenID Connect Discovery document of an authorization
 * server. The streamable HTTP client and the gateway's upstream sign-in use
 * the same lists.
 */

/**
 * The one spelling of an issuer identifier: scheme and host lower-cased and the default port
 * dropped (as `URL` does), trailing slashes dropped. Issuers are compared as exact strings
 * (RFC 8414 §3.3, RFC 9207), so a server publishes only this form.
 */
export function canonicalIssuer(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * RFC 9728 §3.1 well-known locations for `serverUrl`, most specific first:
 * the path-aware `/.well-known/oauth-protected-resource/<path>`, then the root.
 * (The `resource_metadata` of a 401 challenge, when there is one, comes before both.)
 */
export function protectedResourceMetadataUrls(serverUrl: URL): string[] {
  const path = serverUrl.pathname.replace(/\/+$/, '');
  const urls = [];
  if (path) urls.push(new URL(`/.well-known/oauth-protected-resource${path}`, serverUrl.origin).href);
  urls.push(new URL('/.well-known/oauth-protected-resource', serverUrl.origin).href);
  return urls;
}

/**
 * The metadata URLs to try for `issuer`: RFC 8414 path-inserted, OIDC
 * path-inserted, OIDC path-appended (for an issuer with a path); RFC 8414 then
 * OIDC for one without. Only the default `oauth-authorization-server` suffix
 * of RFC 8414 §3.1 (MCP defines no suffix of its own, SEP-2351) and OpenID
 * Connect's `openid-configuration`; a terminating `/` of the path is removed.
 */
export function authorizationServerMetadataUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/+$/, '');
  const at = (p: string) => new URL(p, issuer.origin).href;
  if (!path) return [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
  return [
    at(`/.well-known/oauth-authorization-server${path}`),
    at(`/.well-known/openid-configuration${path}`),
    at(`${path}/.well-known/openid-configuration`),
  ];
}

/**
 * True when `resource` may stand for `serverUrl`: same origin, and its path is
 * the server's path or a parent of it (the MCP SDK's rule). RFC 9728 §3.3 asks
 * clients to refuse metadata for another resource.
 */
export function resourceCovers(resource: string, serverUrl: URL): boolean {
  let r: URL;
  try {
    r = new URL(resource);
  } catch {
    return false;
  }
  if (r.origin !== serverUrl.origin) return false;
  const rp = r.pathname.endsWith('/') ? r.pathname : r.pathname + '/';
  const sp = serverUrl.pathname.endsWith('/') ? serverUrl.pathname : serverUrl.pathname + '/';
  return sp.startsWith(rp);
}
