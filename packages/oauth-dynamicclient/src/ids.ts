/** Random identifiers and secrets. Injectable through the server options. */
export interface IdGenerator {
  /** A URL-safe random token carrying `bytes` bytes of entropy (default 32 = 256 bits). */
  token(bytes?: number): string;
  /** A random UUID (v4), for record ids such as `jti`. */
  uuid(): string;
}

/** Encodes bytes as unpadded base64url. */
export function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** `crypto.getRandomValues`-backed generator. */
export const cryptoIds: IdGenerator = {
  token(bytes = 32) {
    return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
  },
  uuid() {
    return crypto.randomUUID();
  },
};
