import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import { invalidGrant, OAuthError } from '../http/errors.js';
import { DpopError } from './errors.js';
import { dpopVerifier } from './services.js';
import { singleProof } from './proof.js';

/** The key a token request proved possession of (RFC 9449 §5); `jkt` absent = a Bearer request. */
export interface TokenBinding {
  /** SHA-256 JWK thumbprint of the proof's key: the `cnf.jkt` of what is issued. */
  jkt?: string;
  /**
   * Records the checked proof's `jti` (once, however often it is called;
   * absent without a proof). A grant calls it after its read-only checks and
   * before it consumes (a code, a refresh token, an assertion's `jti`) or
   * issues anything, so an invalid grant writes no replay entry and a
   * replayed proof is refused with nothing consumed.
   *
   * @throws OAuthError `invalid_dpop_proof` when the proof was used before.
   */
  recordProof?: () => Promise<void>;
}

/** A DPoP refusal as the token endpoint's 400, with `DPoP-Nonce` when there is one to retry with. */
export function dpopOAuthError(err: DpopError): OAuthError {
  return new OAuthError(err.code, err.description, err.nonce ? { headers: { 'dpop-nonce': err.nonce } } : {});
}

/** Whether token requests of `client` must carry a proof (`dpop.required` or RFC 9449 §5.2 registration). */
export function dpopRequired(ctx: ServerContext, client: Client): boolean {
  return ctx.options.dpop.required || client.metadata.dpop_bound_access_tokens === true;
}

/**
 * The one place every grant's DPoP is decided (RFC 9449 §5): checks the
 * `DPoP` header of a token request against `POST <issuer>/token` (signature,
 * `htm`, `htu`, `iat`, nonce; nothing written) and returns the proven key
 * with `recordProof` for the grant to record its `jti`, or `{}` without a
 * header. A client for which DPoP is required and sent none is refused with
 * `invalid_dpop_proof`.
 */
export async function tokenRequestBinding(
  ctx: ServerContext,
  request: Request,
  client: Client,
): Promise<TokenBinding> {
  if (!ctx.options.dpop.enabled) return {};
  const verifier = dpopVerifier(ctx);
  try {
    const proof = singleProof(request.headers.get('dpop'));
    if (!proof) {
      if (!dpopRequired(ctx, client)) return {};
      const nonce = verifier.nonces ? await verifier.nonces.current() : undefined;
      throw new DpopError('invalid_dpop_proof', 'a DPoP proof is required for this client', nonce);
    }
    const checked = await verifier.check(proof, { method: 'POST', url: ctx.endpoint('/token') });
    let recorded: Promise<void> | undefined;
    return {
      jkt: checked.jkt,
      recordProof: () => (recorded ??= verifier.recordUse(checked).catch(asOAuthError)),
    };
  } catch (err) {
    return asOAuthError(err);
  }
}

/** A DPoP refusal as the token endpoint's error ({@link dpopOAuthError}); anything else rethrown as is. */
function asOAuthError(err: unknown): never {
  throw err instanceof DpopError ? dpopOAuthError(err) : err;
}

/**
 * A key-bound grant artefact (a code with `dpop_jkt`, a public client's
 * refresh token) may only be used with a proof of that key.
 */
export function assertSameKey(bound: string | undefined, binding: TokenBinding, what: string): void {
  if (bound === undefined || bound === binding.jkt) return;
  if (binding.jkt === undefined)
    throw new OAuthError('invalid_dpop_proof', `${what} is DPoP-bound: a proof of its key is required`);
  throw invalidGrant(`${what} is bound to another DPoP key`);
}

/** `token_type` of a token response (RFC 9449 §5.1: `DPoP` for a bound access token). */
export const tokenType = (binding: TokenBinding): 'DPoP' | 'Bearer' => (binding.jkt ? 'DPoP' : 'Bearer');

/** Adds the current `DPoP-Nonce` to a successful token response when nonces are on. */
export async function withDpopNonce(ctx: ServerContext, response: Response): Promise<Response> {
  const nonces = dpopVerifier(ctx).nonces;
  if (nonces) response.headers.set('dpop-nonce', await nonces.current());
  return response;
}
