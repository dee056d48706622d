import { RemoteJwks } from '../clients/jwks.js';
import type { ServerContext } from '../context.js';
import { JtiReplayGuard } from '../tokens/jti-replay.js';

/** What client assertions and ID-JAGs are checked with, one set per server. */
export interface AssertionServices {
  /** Cached key sets of `jwks_uri` clients and trusted IdPs. */
  keys: RemoteJwks;
  /** One-time use of `jti`. */
  replay: JtiReplayGuard;
}

const registry = new WeakMap<ServerContext, AssertionServices>();

/** The assertion services of a server context, created on first use. */
export function assertionServices(ctx: ServerContext): AssertionServices {
  let s = registry.get(ctx);
  if (!s) {
    s = {
      keys: new RemoteJwks(ctx.options.remoteJwks, ctx.clock, ctx.log),
      replay: new JtiReplayGuard(ctx.store, ctx.clock, ctx.options.tokens.clockSkewSeconds),
    };
    registry.set(ctx, s);
  }
  return s;
}
