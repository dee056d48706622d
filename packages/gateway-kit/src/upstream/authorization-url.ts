import { isLoopbackHost } from '@mcp-gateway/internal/host';
import { UpstreamAuthorizationUrlRefused } from './errors.js';

/**
 * The upstream `authorization_endpoint` of `issuer`'s metadata, parsed, when the user's browser may
 * be sent there (MCP 2026-07-28 security best practices, "OAuth Authorization URL Validation": an
 * allowlist of schemes). Only `https:`, or `http:` on a loopback host (`localhost`, 127.0.0.0/8,
 * `[::1]`: local development), whatever the configured upstream's scheme. Anything else
 * (`http:` elsewhere, `javascript:`, `data:`, `file:`, `vbscript:`, `ms-settings:`, …) or a value
 * that is no URL is {@link UpstreamAuthorizationUrlRefused}.
 */
export function allowedAuthorizationEndpoint(issuer: string, value: unknown): URL {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol === 'https:' || (url?.protocol === 'http:' && isLoopbackHost(url.hostname))) return url;
  throw new UpstreamAuthorizationUrlRefused(issuer, url?.protocol, url?.protocol === 'http:');
}
