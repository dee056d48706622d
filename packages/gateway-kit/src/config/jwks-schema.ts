import { z } from 'zod';

/** A JWK Set of public keys in the config (machine clients, trusted IdPs, workload issuers). */
export const jwksSchema = z
  .strictObject({
    keys: z
      .array(z.looseObject({ kty: z.string().min(1) }))
      .min(1)
      .max(10),
  })
  .describe('A JWK Set of public keys (no `d`).');
