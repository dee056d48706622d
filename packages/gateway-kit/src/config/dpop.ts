import { dpopAlgorithms, dpopDefaults } from '@mcp-gateway/oauth-dynamicclient';
import { z } from 'zod';

/**
 * `authorization.dpop` when the config leaves it out: the authorization
 * server's defaults, except that the gateway serves DPoP unless told not to.
 */
export const DPOP_DEFAULTS = {
  enabled: true,
  required: dpopDefaults.dpop.required,
  nonce: dpopDefaults.dpop.nonce,
  nonceRotation: dpopDefaults.dpop.nonceRotationSeconds,
  proofMaxAge: dpopDefaults.dpop.proofMaxAgeSeconds,
} as const;

/**
 * `authorization.dpop`: sender-constrained tokens (DPoP, RFC 9449) at the
 * gateway's authorization server, its MCP routes, the admin API and `/verify`.
 */
export const dpopSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(DPOP_DEFAULTS.enabled)
      .describe(
        'Serve DPoP: advertise `dpop_signing_alg_values_supported`, bind tokens to the key proven at `/token` (`token_type: DPoP`, `cnf.jkt`), and accept `Authorization: DPoP` with a proof on every protected route. `false`: Bearer tokens only.',
      ),
    required: z
      .boolean()
      .default(DPOP_DEFAULTS.required)
      .describe(
        'Refuse token requests without a DPoP proof and the Bearer scheme on the gateway routes (challenges then name DPoP only).',
      ),
    nonce: z
      .boolean()
      .default(DPOP_DEFAULTS.nonce)
      .describe(
        'Require server nonces in proofs (RFC 9449 §8, §9): a proof without the current nonce gets 401/400 `use_dpop_nonce` with a `DPoP-Nonce` header to retry with.',
      ),
    nonceRotation: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(DPOP_DEFAULTS.nonceRotation)
      .describe('Seconds a nonce is handed out; it is accepted for twice as long.'),
    proofMaxAge: z
      .number()
      .int()
      .min(5)
      .max(600)
      .default(DPOP_DEFAULTS.proofMaxAge)
      .describe('Seconds a proof is accepted after its `iat` (the replay-cache window).'),
    algorithms: z
      .array(z.enum(dpopAlgorithms as [string, ...string[]]))
      .min(1)
      .optional()
      .describe('Accepted proof algorithms (default: every asymmetric one, ES256 first).'),
  })
  .prefault({});

/** The validated `authorization.dpop`. */
export type DpopConfig = z.output<typeof dpopSchema>;

/** The authorization server's `dpop` options for a gateway's `authorization.dpop`. */
export function dpopServerOptions(d: DpopConfig) {
  return {
    enabled: d.enabled,
    required: d.required,
    nonce: d.nonce,
    nonceRotationSeconds: d.nonceRotation,
    proofMaxAgeSeconds: d.proofMaxAge,
    ...(d.algorithms ? { algorithms: d.algorithms } : {}),
  };
}
