import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { Store } from '../store/types.js';

/** Asymmetric algorithms the server signs access tokens with. */
export type SigningAlgorithm = 'ES256' | 'RS256';

/** A signing key as persisted in the store. The private half never leaves the server. */
export interface StoredSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateJwk: JWK;
  publicJwk: JWK;
  /** When the key was created (ms). */
  createdAt: number;
  /** When a newer key replaced it (ms); absent for the active key. */
  retiredAt?: number;
}

/** The persisted key ring: newest (active) key first. */
interface KeyRing {
  keys: StoredSigningKey[];
}

/** A JSON Web Key Set as published at `/jwks`. */
export interface JsonWebKeySet {
  keys: JWK[];
}

export interface KeyManagerOptions {
  store: Store;
  clock: Clock;
  /** Algorithm for new keys (default ES256). */
  alg?: SigningAlgorithm;
  /**
   * How long a retired key stays published, in ms: at least the longest
   * access-token lifetime plus clock skew, so every token it signed can still
   * be verified.
   */
  retainRetiredMs: number;
  /** How often to re-read the key ring from the store, picking up rotations by other instances (default 60 s). */
  refreshMs?: number;
}

const RING_KEY = 'keys:signing';
const LOCK_KEY = 'keys:signing:lock';

async function createKey(alg: SigningAlgorithm, now: number): Promise<StoredSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  // RFC 7638 thumbprint as kid: stable, unique per key, no extra randomness needed.
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    createdAt: now,
  };
}

/**
 * Signing keys for access tokens: generated on first start and kept in the
 * {@link Store} so every instance sharing the store signs and verifies with
 * the same keys. {@link rotate} puts a new key in front and keeps the old
 * public keys published until their tokens have expired.
 */
export class KeyManager {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly alg: SigningAlgorithm;
  private readonly retainRetiredMs: number;
  private readonly refreshMs: number;
  private ring: KeyRing | undefined;
  private loadedAt = 0;
  private loading: Promise<KeyRing> | undefined;
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(options: KeyManagerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.alg = options.alg ?? 'ES256';
    this.retainRetiredMs = options.retainRetiredMs;
    this.refreshMs = options.refreshMs ?? 60_000;
  }

  /** The key ring, from memory when fresh, else from the store; creates the first key when there is none. */
  private async load(force = false): Promise<KeyRing> {
    if (!force && this.ring && this.clock.now() - this.loadedAt < this.refreshMs) return this.ring;
    this.loading ??= this.fetchRing().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async fetchRing(): Promise<KeyRing> {
    let ring = await this.store.get<KeyRing>(RING_KEY);
    if (!ring?.keys.length) ring = await this.initialise();
    this.ring = this.prune(ring);
    this.loadedAt = this.clock.now();
    return this.ring;
  }

  /**
   * Creates the first key. Several instances may start at once on one store:
   * the store's atomic counter elects one creator; the others wait for its key.
   */
  private async initialise(): Promise<KeyRing> {
    const turn = await this.store.increment(LOCK_KEY, 10_000);
    if (turn === 1) {
      const ring = { keys: [await createKey(this.alg, this.clock.now())] };
      await this.store.set(RING_KEY, ring);
      return ring;
    }
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const ring = await this.store.get<KeyRing>(RING_KEY);
      if (ring?.keys.length) return ring;
    }
    throw new Error('timed out waiting for another instance to create the signing key');
  }

  private prune(ring: KeyRing): KeyRing {
    const now = this.clock.now();
    return {
      keys: ring.keys.filter((k) => k.retiredAt === undefined || now - k.retiredAt < this.retainRetiredMs),
    };
  }

  private importKey(
    kid: string,
    jwk: JWK,
    alg: SigningAlgorithm,
    half: 'private' | 'public',
  ): Promise<CryptoKey> {
    const cacheKey = `${half}:${kid}`;
    let key = this.imported.get(cacheKey);
    if (!key) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      this.imported.set(cacheKey, key);
    }
    return key;
  }

  /** The active signing key. */
  async signingKey(): Promise<{ kid: string; alg: SigningAlgorithm; key: CryptoKey }> {
    const active = (await this.load()).keys[0]!;
    return {
      kid: active.kid,
      alg: active.alg,
      key: await this.importKey(active.kid, active.privateJwk, active.alg, 'private'),
    };
  }

  /**
   * The public key for `kid` (with its algorithm), or `undefined`. An unknown
   * kid triggers one reload from the store, for keys rotated by another instance.
   */
  async verificationKey(kid: string): Promise<{ alg: SigningAlgorithm; key: CryptoKey } | undefined> {
    let found = (await this.load()).keys.find((k) => k.kid === kid);
    if (!found && this.clock.now() - this.loadedAt > 1_000)
      found = (await this.load(true)).keys.find((k) => k.kid === kid);
    if (!found) return undefined;
    return { alg: found.alg, key: await this.importKey(found.kid, found.publicJwk, found.alg, 'public') };
  }

  /** The published JWKS: the active key and retired keys whose tokens may still be live. */
  async jwks(): Promise<JsonWebKeySet> {
    return { keys: (await this.load()).keys.map((k) => k.publicJwk) };
  }

  /**
   * Creates a new active key (of `alg`, default the configured one). The old
   * key stops signing at once and stays published for `retainRetiredMs`.
   */
  async rotate(alg: SigningAlgorithm = this.alg): Promise<string> {
    const current = await this.load(true);
    const now = this.clock.now();
    const next = await createKey(alg, now);
    const ring = this.prune({
      keys: [next, ...current.keys.map((k) => ({ ...k, retiredAt: k.retiredAt ?? now }))],
    });
    await this.store.set(RING_KEY, ring);
    this.ring = ring;
    this.loadedAt = now;
    return next.kid;
  }
}
