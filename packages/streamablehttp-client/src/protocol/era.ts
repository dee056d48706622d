import { ServerError } from '../errors.js';
import type { Logger } from '../log.js';
import { readDiscover, type DiscoverResult, type ModernClient } from './client.js';
import { isModernErrorCode, MODERN_ERRORS, type Era } from './versions.js';

/** What the `server/discover` probe found out about a server. */
export type EraDecision =
  { era: 'modern'; version: string; discover: DiscoverResult } | { era: 'legacy'; reason: string };

/**
 * Probes a server's era (MCP 2026-07-28, "client side"): `server/discover`
 * carrying the preferred modern revision. A `DiscoverResult`, or an error only
 * a modern server sends (-32020, -32021, -32022 listing a revision we speak),
 * means modern; any other answer (a JSON-RPC error such as -32601 or a 2025
 * server's "not initialized", an HTTP error without a JSON-RPC body) means
 * legacy. Network and authorization failures are thrown: they say nothing
 * about the era.
 */
export async function probeEra(client: ModernClient, logger?: Logger): Promise<EraDecision> {
  let answer;
  try {
    answer = await client.send('server/discover');
  } catch (err) {
    if (err instanceof ServerError) return { era: 'legacy', reason: err.message };
    throw err;
  }
  if (answer.result && Array.isArray(answer.result.supportedVersions)) {
    return { era: 'modern', version: client.version, discover: readDiscover(answer.result) };
  }
  const code = answer.error?.code;
  if (isModernErrorCode(code) && code !== MODERN_ERRORS.unsupportedProtocolVersion) {
    logger?.info('server/discover failed with a modern error; taking the server as 2026-07-28', { code });
    return {
      era: 'modern',
      version: client.version,
      discover: { supportedVersions: [client.version], capabilities: {} },
    };
  }
  return {
    era: 'legacy',
    reason: answer.error
      ? `server/discover answered ${answer.error.code} ${answer.error.message}`
      : 'server/discover gave no DiscoverResult',
  };
}

/**
 * Era decisions per server URL, so a process probes each server once (the
 * library's connections and the bridge share {@link defaultEraCache}).
 * Bounded: the oldest entry goes when {@link EraCache.limit} is reached.
 */
export class EraCache {
  private readonly entries = new Map<string, Era>();
  constructor(readonly limit = 256) {}

  get(url: URL): Era | undefined {
    return this.entries.get(url.href);
  }

  set(url: URL, era: Era): void {
    this.entries.delete(url.href);
    this.entries.set(url.href, era);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(url: URL): void {
    this.entries.delete(url.href);
  }
}

/** The process-wide {@link EraCache}. */
export const defaultEraCache = new EraCache();
