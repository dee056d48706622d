import { z } from 'zod';

const count = (description: string, fallback: number, min = 1) =>
  z.number().int().min(min).default(fallback).describe(description);

/**
 * `services.<name>.stateless` of a stdio service: the per-user pool of initialized children that
 * answers MCP 2026-07-28 requests (no session). Children are never shared between users.
 */
export const statelessPoolSchema = z
  .strictObject({
    maxChildren: count('Most children serving 2026-07-28 requests, all users together.', 20),
    maxChildrenPerUser: count(
      'Most children of one user; each serves one request at a time (or up to maxSharedPerChild shareable ones), beyond that requests queue.',
      2,
    ),
    maxSharedPerChild: count(
      'Most requests one child serves at once when their clients declare none of elicitation, sampling and roots and ask for no log level (1: one request at a time).',
      8,
    ),
    maxQueuedPerUser: count(
      'Most requests of one user waiting for one of its busy children; beyond, 429 with Retry-After (0: 429 at once). A waiting request whose client disconnects leaves the queue.',
      16,
      0,
    ),
    queueTimeout: count('Seconds a queued request waits for a child before 429.', 30),
    idleTimeout: count('Seconds an idle child of the pool lives.', 300),
  })
  .prefault({})
  .describe(
    'The per-user pool of initialized children behind MCP 2026-07-28 requests (no session). Children are never shared between users.',
  );

/** The parsed {@link statelessPoolSchema}. */
export type StatelessPoolConfig = z.infer<typeof statelessPoolSchema>;

/** The bridge's `modern` pool options for a parsed {@link StatelessPoolConfig}. */
export function statelessPoolOptions(c: StatelessPoolConfig) {
  return {
    maxChildren: c.maxChildren,
    maxChildrenPerUser: c.maxChildrenPerUser,
    maxSharedPerChild: c.maxSharedPerChild,
    maxQueuedPerUser: c.maxQueuedPerUser,
    queueTimeoutMs: c.queueTimeout * 1000,
    idleTimeoutMs: c.idleTimeout * 1000,
  };
}
