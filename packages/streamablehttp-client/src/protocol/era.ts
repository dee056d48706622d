import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { ServerError } from '../errors.js';
import type { Logger } from '../log.js';
import { readDiscover, type DiscoverResult, type ModernClient } from './client.js';
import {
  isModernErrorCode,
  LEGACY_VERSIONS,
  MODERN_ERRORS,
  MODERN_VERSIONS,
  pickModernVersion,
  type Era,
} from './versions.js';
import { LEGACY_STATUSES, revealsLegacy } from './era-errors.js';
import type { RpcAnswer } from './wire.js';

/** What the `server/discover` probe found out about a server. */
export type EraDecision =
  { era: 'modern'; version: string; discover: DiscoverResult } | { era: 'legacy'; reason: string };

/** The probe got no answer that tells the era; nothing is remembered, and a later attempt may tell. */
function undecided(client: ModernClient, answer: RpcAnswer): ServerError {
  const { code, message } = answer.error!;
  return new ServerError(
    `jsonrpc_${code}`,
    `${client.url.href}: server/discover failed: ${message} (${code}); its MCP era is not known yet`,
    answer.status >= 400 ? { status: answer.status } : undefined,
  );
}

/**
 * Probes a server's era (MCP 2026-07-28, "client side"): `server/discover`
 * carrying the preferred modern revision.
 *
 * - modern: a `DiscoverResult`, or an error only a modern server sends
 *   (-32020, -32021, or -32022 listing a revision we speak);
 * - legacy: HTTP 400, 404 or 405 without a recognised modern error body; a
 *   JSON-RPC error on a success status other than -32603 (the server read the
 *   request and does not know `server/discover`, which every 2026 server
 *   implements); -32022 listing only 2025 revisions we speak;
 * - thrown, nothing decided: network and authorization failures, HTTP 5xx and
 *   other statuses, -32603, a 202, a body that is not JSON-RPC, an answer
 *   stream that ended early (they say nothing about the era), and -32022
 *   listing no revision we speak at all (a clear error, not a fallback).
 */
export async function probeEra(
  client: ModernClient,
  logger?: Logger,
  signal?: AbortSignal,
): Promise<EraDecision> {
  let answer: RpcAnswer;
  try {
    answer = await client.send('server/discover', {}, signal ? { signal } : {});
  } catch (err) {
    if (err instanceof ServerError && revealsLegacy(err)) return { era: 'legacy', reason: err.message };
    throw err;
  }
  if (answer.result) {
    if (Array.isArray(answer.result.supportedVersions))
      return { era: 'modern', version: client.version, discover: readDiscover(answer.result) };
    return { era: 'legacy', reason: 'server/discover gave no DiscoverResult' };
  }
  const { code } = answer.error;
  if (code === MODERN_ERRORS.unsupportedProtocolVersion) return unsupported(client, answer, logger);
  if (isModernErrorCode(code)) {
    logger?.info('server/discover failed with a modern error; taking the server as 2026-07-28', { code });
    return modernWithoutDiscover(client);
  }
  const reason = `server/discover answered ${code} ${answer.error.message} (HTTP ${answer.status})`;
  if (LEGACY_STATUSES.has(answer.status)) return { era: 'legacy', reason };
  if (answer.status < 300 && code !== JSONRPC_ERROR_CODES.InternalError) return { era: 'legacy', reason };
  throw undecided(client, answer);
}

function modernWithoutDiscover(client: ModernClient): EraDecision {
  return {
    era: 'modern',
    version: client.version,
    discover: { supportedVersions: [client.version], capabilities: {} },
  };
}

/**
 * A -32022 after the client's retry: modern when it lists a revision we speak,
 * legacy when it lists only 2025 ones we speak (the server serves those with
 * `initialize`), else an error naming both lists (basic/versioning: "surface
 * an error to the user if no compatible version exists").
 */
function unsupported(client: ModernClient, answer: RpcAnswer, logger?: Logger): EraDecision {
  const supported = (answer.error?.data as { supported?: unknown } | undefined)?.supported;
  if (pickModernVersion(supported)) return modernWithoutDiscover(client);
  const listed = Array.isArray(supported) ? supported.filter((v) => typeof v === 'string') : [];
  const legacy = LEGACY_VERSIONS.find((v) => listed.includes(v));
  if (legacy) {
    logger?.info('the server serves only 2025 revisions; using initialize', { supported: listed });
    return { era: 'legacy', reason: `server/discover refused 2026-07-28; the server lists ${legacy}` };
  }
  throw new ServerError(
    'unsupported_protocol_version',
    `${client.url.href} serves MCP ${listed.length ? listed.join(', ') : '(no revision listed)'}; this client speaks ${[...MODERN_VERSIONS, ...LEGACY_VERSIONS].join(', ')}`,
    answer.status >= 400 ? { status: answer.status } : undefined,
  );
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
