import { z } from 'zod';
import { dpopAlgorithms } from './proof.js';

/** Defaults of DPoP (RFC 9449) at the token endpoint and the server's resource helpers. */
export const dpopDefaults = {
  dpop: {
    /**
     * Serve DPoP: advertise `dpop_signing_alg_values_supported`, bind tokens
     * to the key of a token request's proof, accept `Authorization: DPoP` at
     * `/verify` and `server.requireBearer`. `false`: a `DPoP` header at
     * `/token` is ignored (Bearer tokens, as RFC 9449 §5 lets a server do) and
     * the DPoP scheme is refused; for resource servers that cannot check proofs yet.
     */
    enabled: true,
    /**
     * Refuse token requests without a DPoP proof (`invalid_dpop_proof`) for
     * every client. A client can also ask for it alone by registering
     * `dpop_bound_access_tokens: true` (RFC 9449 §5.2).
     */
    required: false,
    /**
     * Require server nonces (RFC 9449 §8, §9) in proofs at `/token`, `/verify`
     * and `server.requireBearer`: a proof without the current nonce is
     * answered `use_dpop_nonce` with a `DPoP-Nonce` header.
     */
    nonce: false,
    /** A nonce is handed out for this long and accepted for twice as long, seconds. */
    nonceRotationSeconds: 300,
    /** A proof is accepted this long after its `iat` (the replay-cache window), seconds. */
    proofMaxAgeSeconds: 60,
  },
};

/** Option fields of DPoP; spread into the server's options schema. */
export const dpopOptionsShape = {
  /** DPoP (RFC 9449): see `dpop/options.ts` (`dpopDefaults`). */
  dpop: z
    .object({
      enabled: z.boolean().default(dpopDefaults.dpop.enabled),
      required: z.boolean().default(dpopDefaults.dpop.required),
      nonce: z.boolean().default(dpopDefaults.dpop.nonce),
      nonceRotationSeconds: z
        .number()
        .int()
        .min(10)
        .max(3600)
        .default(dpopDefaults.dpop.nonceRotationSeconds),
      proofMaxAgeSeconds: z.number().int().min(5).max(600).default(dpopDefaults.dpop.proofMaxAgeSeconds),
      /** Accepted proof algorithms (default: every asymmetric one the server knows). */
      algorithms: z
        .array(z.enum(dpopAlgorithms as [string, ...string[]]))
        .min(1)
        .optional(),
    })
    .strict()
    .prefault({}),
};
