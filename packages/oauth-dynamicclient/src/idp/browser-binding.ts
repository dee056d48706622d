import { cookieValues } from '@mcp-gateway/internal/cookies';
import { sameToken } from '@mcp-gateway/internal/same-origin';
import type { IdGenerator } from '../ids.js';
import { base64url } from '../ids.js';
import { hashSecret } from '../secrets.js';
import type { Store } from '../store/types.js';

const KEY = 'keys:cookie';
const LOCK = 'keys:cookie:lock';

/**
 * Binds a login to the browser that started it: a random value in a signed
 * cookie (`__Host-` prefixed when the issuer is https; plain name on
 * `http://` loopback issuers, where `__Host-` cookies cannot be set because
 * they require `Secure`). Flow records keep only the value's hash, so a state
 * or consent id alone is useless in another browser.
 */
export class BrowserBinding {
  readonly cookieName: string;
  private readonly secure: boolean;
  private key: Promise<CryptoKey> | undefined;

  constructor(
    private readonly store: Store,
    private readonly ids: IdGenerator,
    issuer: string,
    private readonly cookiePath: string,
    /** Default `Max-Age` of the cookie: the lifetime of the flow records bound to it. */
    private readonly maxAgeSeconds = 600,
  ) {
    this.secure = issuer.startsWith('https:');
    this.cookieName = this.nameFor('mcp-as-flow');
  }

  /** The HMAC key, created once and kept in the store (shared by every instance). */
  private hmacKey(): Promise<CryptoKey> {
    this.key ??= (async () => {
      let raw = await this.store.get<string>(KEY);
      if (!raw) {
        if ((await this.store.increment(LOCK, 10_000)) === 1) {
          raw = this.ids.token(32);
          await this.store.set(KEY, raw);
        } else {
          for (let i = 0; i < 200 && !raw; i++) {
            await new Promise((r) => setTimeout(r, 25));
            raw = await this.store.get<string>(KEY);
          }
          if (!raw) throw new Error('timed out waiting for the cookie key');
        }
      }
      return crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(raw),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      );
    })().catch((err: unknown) => {
      this.key = undefined;
      throw err;
    });
    return this.key;
  }

  /** HMAC-SHA256 of `value`, base64url. */
  async sign(value: string): Promise<string> {
    const mac = await crypto.subtle.sign('HMAC', await this.hmacKey(), new TextEncoder().encode(value));
    return base64url(new Uint8Array(mac));
  }

  /** The name of a login-flow cookie: `__Host-<base>` on an https issuer, `<base>` on an `http://` one. */
  nameFor(base: string): string {
    return this.secure ? `__Host-${base}` : base;
  }

  /** A `Set-Cookie` header of the login flows: `HttpOnly`, `SameSite=Lax`, `Secure` on an https issuer. */
  setCookie(name: string, value: string, maxAgeSeconds: number): string {
    const attrs = [
      `${name}=${value}`,
      `Path=${this.cookiePath}`,
      'HttpOnly',
      'SameSite=Lax',
      `Max-Age=${maxAgeSeconds}`,
    ];
    if (this.secure) attrs.push('Secure');
    return attrs.join('; ');
  }

  /** The verified browser value from the request's cookie, or `undefined`. */
  async read(request: Request): Promise<string | undefined> {
    for (const cookie of cookieValues(request, this.cookieName)) {
      const [value, mac] = cookie.split('.');
      if (value && mac && value.length <= 64 && sameToken(mac, await this.sign(value))) return value;
    }
    return undefined;
  }

  /**
   * The browser's value (reusing a valid cookie, else a new one), its hash for
   * flow records, and the `Set-Cookie` header to send: always, so a reused
   * cookie gets a fresh `Max-Age` and outlives every flow record made from it
   * (a second `/authorize` shortly before the first cookie expired would
   * otherwise park a flow the browser can no longer prove).
   */
  async ensure(
    request: Request,
    maxAgeSeconds = this.maxAgeSeconds,
  ): Promise<{ binding: string; setCookie: string }> {
    const value = (await this.read(request)) ?? this.ids.token(24);
    return { binding: await hashSecret(value), setCookie: await this.cookie(value, maxAgeSeconds) };
  }

  /**
   * A `Set-Cookie` header renewing the request's valid cookie (same value,
   * fresh `Max-Age`), or `undefined` without one. Sent where a flow record
   * bound to the cookie is (re)written, so the cookie lives as long as it.
   */
  async renew(request: Request, maxAgeSeconds = this.maxAgeSeconds): Promise<string | undefined> {
    const value = await this.read(request);
    return value === undefined ? undefined : this.cookie(value, maxAgeSeconds);
  }

  private async cookie(value: string, maxAgeSeconds: number): Promise<string> {
    return this.setCookie(this.cookieName, `${value}.${await this.sign(value)}`, maxAgeSeconds);
  }

  /** Whether the request's cookie is the one `binding` was made from. */
  async matches(request: Request, binding: string): Promise<boolean> {
    const value = await this.read(request);
    return value !== undefined && (await hashSecret(value)) === binding;
  }
}
