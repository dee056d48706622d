/** Why a DPoP proof was refused (RFC 9449 §7.1, §8, §9). */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/**
 * A refused DPoP proof. The token endpoint answers it as `400` with the code
 * as `error`; a resource as `401` with `WWW-Authenticate: DPoP error="…"`.
 * `use_dpop_nonce` carries the nonce to retry with (`DPoP-Nonce` header).
 */
export class DpopError extends Error {
  override readonly name = 'DpopError';
  constructor(
    readonly code: DpopErrorCode,
    readonly description: string,
    /** The server nonce to retry with (`use_dpop_nonce`, or any refusal while nonces are on). */
    readonly nonce?: string,
  ) {
    super(`${code}: ${description}`);
  }
}

/** `invalid_dpop_proof` with `description`. */
export const invalidDpopProof = (description: string): DpopError =>
  new DpopError('invalid_dpop_proof', description);
