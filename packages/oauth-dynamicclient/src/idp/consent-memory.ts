import { cookieValues } from '@mcp-gateway/internal/cookies';
import { sameToken } from '@mcp-gateway/internal/same-origin';
import { isLoopbackRedirect } from '../clients/redirect-uri.js';
import type { Clock } from '../clock.js';
import { base64url } from '../ids.js';
import type { BrowserBinding } from './browser-binding.js';

/** What the user approved on a consent page before signing in: one client's exact request. */
export interface Approval {
  clientId: string;
  redirectUri: string;
  resource: string;
  scopes: readonly string[];
}

/** Approvals one browser remembers; the oldest beyond it is forgotten (the cookie stays under 1 KiB). */
export const MAX_APPROVALS = 20;

/** One remembered approval: its hash, `!`, and when it was given (seconds since the epoch, base 36). */
const ENTRY = /^([A-Za-z0-9_-]{22})!([0-9a-z]{1,8})$/;

/**
 * The redirect URI an approval stands for: as registered, so for a loopback
 * redirect (RFC 8252 §7.3, where any port matches the registration) without
 * the port a native app picked this time.
 */
function registeredForm(redirectUri: string): string {
  const url = new URL(redirectUri);
  if (!isLoopbackRedirect(url)) return redirectUri;
  url.port = '';
  return url.href;
}

/** A 128-bit hash of an approval at `issuer`: the client id, redirect URI, resource and scopes (sorted). */
async function hashOf(issuer: string, a: Approval): Promise<string> {
  const text = JSON.stringify([
    issuer,
    a.clientId,
    registeredForm(a.redirectUri),
    a.resource,
    [...a.scopes].sort(),
  ]);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest).subarray(0, 16));
}

/**
 * The clients this browser approved before it was sent to a third-party
 * identity provider (MCP security best practices, "Confused Deputy Problem":
 * a proxy with one static client id at the upstream keeps a registry of
 * approved `client_id` values and checks it before the upstream redirect).
 *
 * The registry is a cookie, as those practices allow: `__Host-mcp-as-consent`
 * on an https issuer (`mcp-as-consent` on an `http://` loopback issuer, where
 * `__Host-` cannot be set), `Secure` there, `HttpOnly`, `SameSite=Lax`, and
 * signed with the login flows' HMAC key. Each entry is a hash of one client's
 * exact request at this issuer (client id, redirect URI as registered,
 * resource, scopes), so an approval never covers another client, another
 * redirect URI or other scopes, with the time it was given: an entry older
 * than `maxAgeSeconds` counts for nothing, whatever the cookie's `Max-Age`
 * (renewed by each approval) says. At most {@link MAX_APPROVALS} entries,
 * newest first.
 */
export class ConsentMemory {
  readonly cookieName: string;

  constructor(
    private readonly binding: BrowserBinding,
    private readonly clock: Clock,
    private readonly issuer: string,
    /** `Max-Age` of the cookie, renewed by each approval; `0` remembers nothing. */
    private readonly maxAgeSeconds: number,
  ) {
    this.cookieName = binding.nameFor('mcp-as-consent');
  }

  private sign(list: string): Promise<string> {
    return this.binding.sign(`consent-memory\u0000${list}`);
  }

  /** The verified, unexpired entries of the request's cookie (none when absent, altered or malformed). */
  private async entries(request: Request): Promise<string[]> {
    for (const value of cookieValues(request, this.cookieName)) {
      const dot = value.lastIndexOf('.');
      if (dot < 0 || value.length > 1024) continue;
      const list = value.slice(0, dot);
      const entries = list.split('~');
      if (entries.length > MAX_APPROVALS || !entries.every((e) => ENTRY.test(e))) continue;
      if (!sameToken(value.slice(dot + 1), await this.sign(list))) continue;
      const oldest = this.clock.now() / 1000 - this.maxAgeSeconds;
      return entries.filter((e) => parseInt(ENTRY.exec(e)![2]!, 36) > oldest);
    }
    return [];
  }

  /** Whether this browser approved this request before, within `maxAgeSeconds`. */
  async has(request: Request, approval: Approval): Promise<boolean> {
    if (this.maxAgeSeconds === 0) return false;
    const hash = await hashOf(this.issuer, approval);
    return (await this.entries(request)).some((e) => e.startsWith(`${hash}!`));
  }

  /**
   * The `Set-Cookie` header that adds `approval` to the request's list (first,
   * the oldest beyond {@link MAX_APPROVALS} dropped), or `undefined` when
   * nothing is remembered (`maxAgeSeconds` 0).
   */
  async remember(request: Request, approval: Approval): Promise<string | undefined> {
    if (this.maxAgeSeconds === 0) return undefined;
    const hash = await hashOf(this.issuer, approval);
    const entry = `${hash}!${Math.floor(this.clock.now() / 1000).toString(36)}`;
    const list = [entry, ...(await this.entries(request)).filter((e) => !e.startsWith(`${hash}!`))]
      .slice(0, MAX_APPROVALS)
      .join('~');
    return this.binding.setCookie(this.cookieName, `${list}.${await this.sign(list)}`, this.maxAgeSeconds);
  }
}
