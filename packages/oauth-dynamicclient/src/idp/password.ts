import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters: CPU/memory cost `N` (a power of two), block size `r`, parallelism `p`. */
export interface PasswordCost {
  N: number;
  r: number;
  p: number;
}

/**
 * The cost of new password hashes: N=2^17, r=8, p=1 (128 MiB, about
 * 100–300 ms per hash). Tests may pass a lower cost explicitly; nothing
 * lowers it implicitly.
 */
export const DEFAULT_PASSWORD_COST: Readonly<PasswordCost> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** The most a stored hash may ask for (1 GiB); larger parameters are treated as malformed. */
const MAX = { N: 2 ** 20, r: 32, p: 16 };

/**
 * scrypt needs about `128 * N * r` bytes; Node refuses anything above
 * `maxmem` (32 MiB by default, less than N=2^17 needs), so it is always
 * passed explicitly, with headroom.
 */
const maxmem = (c: PasswordCost) => 128 * c.N * c.r + 128 * c.r * c.p + 16 * 1024 * 1024;

const scrypt = (password: string, salt: Buffer, keylen: number, c: PasswordCost) =>
  new Promise<Buffer>((resolve, reject) => {
    const opts: ScryptOptions = { N: c.N, r: c.r, p: c.p, maxmem: maxmem(c) };
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });

interface ParsedHash {
  cost: PasswordCost;
  salt: Buffer;
  key: Buffer;
}

/** Parses `scrypt$N$r$p$salt$hash`; `undefined` when malformed or beyond the limits. */
function parse(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return undefined;
  if (N < 2 || (N & (N - 1)) !== 0 || N > MAX.N || r > MAX.r || p > MAX.p) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (key.length < 16 || salt.length < 8) return undefined;
  return { cost: { N, r, p }, salt, key };
}

/**
 * Hashes a password: scrypt with `cost` (default {@link DEFAULT_PASSWORD_COST}),
 * a 16-byte salt and a 32-byte key, NFC-normalised. The result carries its
 * parameters, `scrypt$N$r$p$salt$hash` (base64url), so hashes made with an
 * older cost keep verifying.
 */
export async function hashPassword(
  password: string,
  cost: PasswordCost = DEFAULT_PASSWORD_COST,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFC'), salt, 32, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * Checks `password` against a {@link hashPassword} string with the
 * parameters the hash carries, in constant time. Malformed hashes never match.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed) return false;
  const key = await scrypt(password.normalize('NFC'), parsed.salt, parsed.key.length, parsed.cost);
  return timingSafeEqual(key, parsed.key);
}

/**
 * Whether a hash is weaker than `cost` (a smaller N, r or p, a short salt or
 * key) and should be replaced by a new {@link hashPassword} once the password
 * is known, at the next successful sign-in.
 */
export function passwordNeedsRehash(encoded: string, cost: PasswordCost = DEFAULT_PASSWORD_COST): boolean {
  const parsed = parse(encoded);
  if (!parsed) return false;
  const c = parsed.cost;
  return c.N < cost.N || c.r < cost.r || c.p < cost.p || parsed.salt.length < 16 || parsed.key.length < 32;
}

/**
 * Verifies `password` and, when it matches a hash weaker than `cost`, also
 * returns the replacement hash to store.
 */
export async function verifyAndUpgradePassword(
  password: string,
  encoded: string,
  cost: PasswordCost = DEFAULT_PASSWORD_COST,
): Promise<{ ok: boolean; upgraded?: string }> {
  if (!(await verifyPassword(password, encoded))) return { ok: false };
  if (!passwordNeedsRehash(encoded, cost)) return { ok: true };
  return { ok: true, upgraded: await hashPassword(password, cost) };
}
