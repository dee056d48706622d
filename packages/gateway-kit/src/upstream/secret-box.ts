import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

/**
 * Values sealed for the store: JSON in a JWE (`dir`, `A256GCM`) under a key
 * derived (HKDF-SHA256) from the instances' shared secret. Each value is
 * bound to a name (its owner: a service and a user) carried in the protected
 * header, which the cipher authenticates, so a value copied under another
 * name does not open.
 */
export class SecretBox {
  private readonly key: Uint8Array;

  constructor(secret: Uint8Array, purpose: string) {
    this.key = new Uint8Array(hkdfSync('sha256', secret, '', `mcp-gateway ${purpose} v1`, 32));
  }

  /** `value` as JSON, encrypted and bound to `name`. */
  seal(value: unknown, name: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', bind: name })
      .encrypt(this.key);
  }

  /** The value sealed for `name`, or `undefined` when `sealed` is not one (tampered, another key, another name). */
  async open<T>(sealed: unknown, name: string): Promise<T | undefined> {
    if (typeof sealed !== 'string') return undefined;
    try {
      const { plaintext, protectedHeader } = await compactDecrypt(sealed, this.key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      if (protectedHeader.bind !== name) return undefined;
      return JSON.parse(new TextDecoder().decode(plaintext)) as T;
    } catch {
      return undefined;
    }
  }
}
