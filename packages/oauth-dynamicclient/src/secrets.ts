import { timingSafeEqual } from 'node:crypto';
import { base64url } from './ids.js';

/**
 * Hashing for high-entropy secrets (client secrets, registration access
 * tokens, refresh tokens). These are 256-bit random values, so a single
 * SHA-256 is enough: there is nothing to brute-force, we only need the store
 * to never hold a usable credential.
 */
export async function hashSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  return base64url(new Uint8Array(digest));
}

/**
 * Compares a presented secret with a stored {@link hashSecret} digest in
 * constant time: both sides are fixed-length SHA-256 digests, compared with
 * `crypto.timingSafeEqual`.
 */
export async function verifySecret(presented: string, storedHash: string | undefined): Promise<boolean> {
  // Hash even when there is nothing to compare with, so timing does not tell
  // "unknown client" from "wrong secret".
  const presentedHash = await hashSecret(presented);
  const expected = storedHash ?? (await hashSecret('\u0000no-secret'));
  const a = new TextEncoder().encode(presentedHash);
  const b = new TextEncoder().encode(expected);
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b) && storedHash !== undefined;
}
