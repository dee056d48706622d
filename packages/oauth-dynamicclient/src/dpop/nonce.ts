import { systemClock, type Clock } from '../clock.js';
import { base64url } from '../ids.js';

/** Options of {@link DpopNonces}. */
export interface DpopNonceOptions {
  /**
   * The HMAC key (at least 32 bytes of entropy). Instances that must accept
   * each other's nonces share it; a function is called once, lazily (the
   * authorization server reads it from its store).
   */
  secret: Uint8Array | (() => Promise<Uint8Array>);
  clock?: Clock;
  /** A nonce is issued for this long and accepted for twice as long, seconds (default 300). */
  rotationSeconds?: number;
}

const enc = new TextEncoder();

/**
 * Stateless server nonces (RFC 9449 §8, §9): the nonce of time slot `n`
 * (`floor(now / rotation)`) is `base64url(HMAC-SHA256(secret, "dpop-nonce:" + n))`.
 * The current and the previous slot's nonces are accepted, so a nonce lives
 * between one and two rotations and nothing is stored. Every instance with
 * the same secret issues and accepts the same nonces.
 */
export class DpopNonces {
  private key: Promise<CryptoKey> | undefined;
  private readonly clock: Clock;
  private readonly rotationMs: number;
  private readonly cache = new Map<number, string>();

  constructor(private readonly options: DpopNonceOptions) {
    this.clock = options.clock ?? systemClock;
    this.rotationMs = (options.rotationSeconds ?? 300) * 1000;
  }

  private hmacKey(): Promise<CryptoKey> {
    if (this.key) return this.key;
    const key = (async () => {
      const s = this.options.secret;
      const raw = (typeof s === 'function' ? await s() : s) as Uint8Array<ArrayBuffer>;
      return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    })();
    // A secret that could not be read (store outage) is asked for again next time.
    key.catch(() => {
      if (this.key === key) this.key = undefined;
    });
    this.key = key;
    return key;
  }

  private async forSlot(slot: number): Promise<string> {
    const cached = this.cache.get(slot);
    if (cached) return cached;
    const mac = await crypto.subtle.sign('HMAC', await this.hmacKey(), enc.encode(`dpop-nonce:${slot}`));
    const nonce = base64url(new Uint8Array(mac));
    // Two slots are ever asked for: keep at most a few.
    if (this.cache.size >= 4) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(slot, nonce);
    return nonce;
  }

  private slot(): number {
    return Math.floor(this.clock.now() / this.rotationMs);
  }

  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(): Promise<string> {
    return this.forSlot(this.slot());
  }

  /** Whether `nonce` is the current or the previous slot's nonce. */
  async isValid(nonce: unknown): Promise<boolean> {
    if (typeof nonce !== 'string' || nonce.length !== 43) return false;
    const slot = this.slot();
    return nonce === (await this.forSlot(slot)) || nonce === (await this.forSlot(slot - 1));
  }
}
