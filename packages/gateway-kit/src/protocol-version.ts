/**
 * The gateway's one MCP protocol-version module. Which era a request speaks
 * (2025 sessions or the 2026-07-28 stateless wire) and what a modern request
 * must satisfy are the bridge's rules, imported from its exports so the two
 * packages can never disagree: stdio services are served by the bridge, the
 * `fetch` service by fetch-server (each checks its own requests), and `http`
 * services are checked here before anything is forwarded.
 */
import {
  BridgeHttpError,
  checkEnvelope,
  classifyMessages,
  MODERN_PROTOCOL_VERSIONS,
  modernBatchRefusal,
  requestEra,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Classified,
  type ProtocolEra,
} from '@mcp-gateway/streamablehttp-proxy';
import { GatewayError, JsonRpcCode } from './errors.js';

export {
  MODERN_PROTOCOL_VERSIONS,
  SUPPORTED_PROTOCOL_VERSIONS,
  requestEra,
  type ProtocolEra,
} from '@mcp-gateway/streamablehttp-proxy';

/**
 * Every revision the gateway serves, newest first: the modern ones and the 2025-era ones (the
 * gateway, its bridge and its federated endpoints answer both eras on one URL). A dual-era server
 * lists them all wherever it names its versions: `server/discover` `supportedVersions` and the
 * `-32022` `data.supported` (spec 2026-07-28 basic/versioning).
 */
export const SERVED_PROTOCOL_VERSIONS: readonly string[] = [
  ...MODERN_PROTOCOL_VERSIONS,
  ...SUPPORTED_PROTOCOL_VERSIONS,
];

/** Methods whose 2026-07-28 answer may be `input_required` (MRTR, SEP-2322); no other may. */
export const MRTR_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** A refusal of a modern request, with the id of the message it answers. */
export interface ModernRefusal {
  error: GatewayError;
  id: string | number | null;
}

type Message = { id?: unknown; method?: unknown; params?: unknown };

/**
 * SEP-2243 / SEP-2575 check of a request an `http` service would receive:
 * when the request is modern ({@link requestEra}), every JSON-RPC request in
 * it must carry the `_meta` envelope (else `-32602`), its
 * `MCP-Protocol-Version` header must equal the `_meta` version and
 * `Mcp-Method` / `Mcp-Name` must mirror `method` and `params.name` /
 * `params.uri` (else `-32020` HeaderMismatch), and the version must be one
 * the gateway knows (else `-32022` listing {@link SERVED_PROTOCOL_VERSIONS}:
 * headers of a revision that does not require them are not trusted). All are
 * HTTP 400. A 2025 request (a session, `initialize`, no modern header or
 * envelope) is not looked at.
 *
 * @param json the parsed body (`undefined` when it is not JSON: left to the upstream)
 * @param header a request header by lower-case name
 * @returns the refusal, or `undefined` when the request may be forwarded
 */
export function checkModernHeaders(
  json: unknown,
  header: (name: string) => string | null | undefined,
): ModernRefusal | undefined {
  const read = (name: string) => header(name) ?? null;
  if (requestEra(json, read('mcp-protocol-version'), read('mcp-session-id')) !== 'modern') return undefined;
  for (const m of (Array.isArray(json) ? json : [json]) as Message[]) {
    if (typeof m !== 'object' || m === null || typeof m.method !== 'string') continue;
    // A request id the envelope check echoes; a message without one (a notification) is checked as id 0 and answered with null.
    const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
    const params =
      typeof m.params === 'object' && m.params !== null && !Array.isArray(m.params)
        ? (m.params as Record<string, unknown>)
        : {};
    try {
      checkEnvelope(id ?? 0, m.method, params, read, SERVED_PROTOCOL_VERSIONS);
    } catch (err) {
      if (!(err instanceof BridgeHttpError)) throw err;
      return { error: gatewayError(err), id };
    }
  }
  return undefined;
}

/** The bridge's refusal as the gateway's error. */
export const gatewayError = (err: BridgeHttpError) =>
  new GatewayError(err.status, err.code, err.message, {}, err.data);

/** The one revision whose sessions may send JSON-RPC batches: 2025-03-26 added them, 2025-06-18 removed them. */
export const BATCH_PROTOCOL_VERSION = '2025-03-26';

/**
 * The messages of a JSON-RPC batch (`era`: the POST's, {@link requestEra}),
 * checked as the bridge checks batches (1 to 1000 JSON-RPC messages, no
 * request id twice, `initialize` alone). Throws the bridge's refusal as a
 * {@link GatewayError} (HTTP 400 `-32600`), also for any batch on the
 * 2026-07-28 wire.
 */
export function batchMessages(values: readonly unknown[], era: ProtocolEra): Classified[] {
  try {
    if (era === 'modern') throw modernBatchRefusal();
    return classifyMessages(values, true);
  } catch (err) {
    if (!(err instanceof BridgeHttpError)) throw err;
    throw gatewayError(err);
  }
}

/**
 * Throws the refusal (HTTP 400 `-32600`) of a batch in a session speaking
 * `version` unless it is {@link BATCH_PROTOCOL_VERSION}. The bridge itself is
 * lenient there: its sessions take batches under any 2025 revision.
 */
export function checkBatchVersion(version: string): void {
  if (version === BATCH_PROTOCOL_VERSION) return;
  throw new GatewayError(
    400,
    JsonRpcCode.InvalidRequest,
    `Invalid Request: JSON-RPC batches are part of MCP ${BATCH_PROTOCOL_VERSION} only (this session speaks ${version})`,
  );
}
