import { authorizationPage } from '@mcp-gateway/internal/authorization-page';
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
  const page = authorizationPage(value);
  if (page instanceof URL) return page;
  const scheme = page === 'not-a-url' ? undefined : new URL(value as string).protocol;
  throw new UpstreamAuthorizationUrlRefused(issuer, scheme, page === 'http-not-loopback');
}
