import { z } from 'zod';

/**
 * What an `instanceId` looks like: a letter or digit, then up to 31 letters,
 * digits or dashes. No dot: a session id is `<instanceId>.<random>`.
 */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

/** `instanceId`: this gateway's name among several on one store (see `instance-id.ts`). */
export const instanceIdSchema = z
  .string()
  .regex(INSTANCE_ID_PATTERN, 'a letter or digit, then up to 31 letters, digits or dashes (e.g. gw1)')
  .optional()
  .describe(
    "This instance's name among several gateways on one Redis store. Every 2025 session id it creates (stdio services, federated endpoints) starts with `<instanceId>.`, so a load balancer can route a request with `Mcp-Session-Id` to the instance holding the session. Unset: session ids carry no prefix (one instance).",
  );
