import type { ServerContext } from '../context.js';
import { assertionServices } from '../grants/services.js';
import { DpopNonces } from './nonce.js';
import { DpopProofVerifier } from './proof.js';

const SECRET_KEY = 'dpop:nonce-secret';

/**
 * The nonce secret shared by every instance on one store: the first instance
 * to need it writes a random one (compare-and-set), the others read it.
 */
async function sharedNonceSecret(ctx: ServerContext): Promise<Uint8Array> {
  let secret = await ctx.store.get<string>(SECRET_KEY);
  if (!secret) {
    await ctx.store.compareAndSet(SECRET_KEY, undefined, ctx.ids.token(32));
    secret = (await ctx.store.get<string>(SECRET_KEY))!;
  }
  return new TextEncoder().encode(secret);
}

const registry = new WeakMap<ServerContext, DpopProofVerifier>();

/** The server's proof verifier, or `false` when `dpop.enabled` is off (the DPoP scheme is refused). */
export const serverDpop = (ctx: ServerContext): DpopProofVerifier | false =>
  ctx.options.dpop.enabled && dpopVerifier(ctx);

/**
 * The server's DPoP proof verifier: `jti`s in the store (one-time across
 * instances, for the proof window), nonces when `dpop.nonce` is on.
 */
export function dpopVerifier(ctx: ServerContext): DpopProofVerifier {
  let v = registry.get(ctx);
  if (!v) {
    const o = ctx.options.dpop;
    v = new DpopProofVerifier({
      clock: ctx.clock,
      ...(o.algorithms ? { algorithms: o.algorithms } : {}),
      maxAgeSeconds: o.proofMaxAgeSeconds,
      clockSkewSeconds: ctx.options.tokens.clockSkewSeconds,
      replay: assertionServices(ctx).replay,
      ...(o.nonce
        ? {
            nonces: new DpopNonces({
              secret: () => sharedNonceSecret(ctx),
              clock: ctx.clock,
              rotationSeconds: o.nonceRotationSeconds,
            }),
          }
        : {}),
    });
    registry.set(ctx, v);
  }
  return v;
}
