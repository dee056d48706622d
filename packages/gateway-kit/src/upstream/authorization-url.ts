import { UpstreamAuthorizationUrlRefused } from './errors.js';

/**
 * The upstream `authorization_endpoint` of `issuer`'s metadata, parsed, when the user's browser may
 * be sent there (MCP security best practices, "Authorization URL validation": an allowlist of
 * schemes). Only `https:`, and `http:` only when `insecure` (the configured upstream is plain
 * http, the operator's choice for loopback and private networks: the same rule as every other URL
 * of its sign-in). Anything else (`javascript:`, `data:`, `file:`, `vbscript:`, `ms-settings:`, …)
 * or a value that is no URL is {@link UpstreamAuthorizationUrlRefused}.
 */
export function allowedAuthorizationEndpoint(issuer: string, value: unknown, insecure: boolean): URL {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol === 'https:' || (insecure && url?.protocol === 'http:')) return url;
  throw new UpstreamAuthorizationUrlRefused(issuer, url?.protocol, insecure);
}
