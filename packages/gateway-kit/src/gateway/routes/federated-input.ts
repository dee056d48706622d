/**
 * The HTTP side of relaying a member's `input_required` to a federated 2025
 * session (`federation/elicitation-relay.ts`): the call's answer becomes an
 * event stream carrying the server→client requests (elicitation, sampling,
 * roots) and, last, the call's response; the client's answers arrive as
 * JSON-RPC responses posted to the session.
 */
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { RELAYS_TO_2025_META } from '@mcp-gateway/streamablehttp-proxy';
import {
  inputRequired,
  MRTR_METHODS,
  PendingInputs,
  relayInputs,
} from '../../federation/elicitation-relay.js';
import { legacyReply } from '../../federation/eras.js';
import type { MemberReply, RpcError } from '../../federation/member.js';
import type { RequestInfo } from '../../http/node.js';
import { acceptsEvents, eventStream } from './federated-listen.js';

/** One 2025 call whose member may ask for input. */
export interface RelayedCall {
  id: string | number | null;
  method: string;
  session: string;
  /** The session client's declared capabilities (elicitation, sampling, roots). */
  capabilities: Record<string, unknown>;
  accept: string | null;
  info: RequestInfo;
  /** The member request again, with the client's answers. */
  retry(inputResponses: Record<string, unknown>, requestState: unknown): Promise<MemberReply>;
  /** Told once when the call is answered (the session is idle again). */
  done(): void;
  /** Told when the call ends with a member still waiting on `requestState` (the client refused). */
  abandon?(requestState: unknown, error: RpcError): void;
}

/** A JSON-RPC response a client posts (no `method`; an `id` and a `result` or an `error`). */
export function isResponse(m: object): m is { id: unknown; result?: unknown; error?: unknown } {
  return !('method' in m) && 'id' in m && ('result' in m || 'error' in m);
}

/**
 * The `_meta` of a 2025 session's member requests: its progress token, and the
 * input capabilities its client declared (members may then ask for input,
 * relayed by {@link FederatedInputs}).
 */
export function legacyMeta(progress: unknown, capabilities: Record<string, unknown>) {
  const declared = Object.keys(capabilities).length > 0;
  return {
    ...(progress === undefined ? {} : { progressToken: progress }),
    ...(declared ? { [MCP_META_KEYS.clientCapabilities]: capabilities } : {}),
    // A stdio member's -32042 (URL elicitation required) is a 2025 answer: the bridge passes it on as it is.
    [RELAYS_TO_2025_META]: true,
  };
}

/** The relayed calls of one federated endpoint's 2025 sessions. */
export class FederatedInputs {
  readonly pending = new PendingInputs();

  /**
   * The answer to `call` when the member asked for input and the client takes
   * event streams: a stream relaying the rounds; `undefined` otherwise (the
   * reply is answered as is, `-32021` for `input_required`).
   */
  relay(call: RelayedCall, first: MemberReply): Response | undefined {
    if (!MRTR_METHODS.has(call.method) || !inputRequired(first) || !acceptsEvents(call.accept)) {
      return undefined;
    }
    const abort = new AbortController();
    const stream = eventStream(call.info, () => abort.abort());
    void relayInputs(first, {
      capabilities: call.capabilities,
      ask: (method, params) =>
        this.pending.ask(call.session, (m) => stream.write(m), method, params, abort.signal),
      retry: (responses, state) => call.retry(responses, state),
      abandon: (state, error) => call.abandon?.(state, error),
    })
      .then((reply) => {
        const answer = legacyReply(reply);
        stream.write({ jsonrpc: '2.0', id: call.id, ...answer });
      })
      .catch(() => {
        stream.write({ jsonrpc: '2.0', id: call.id, error: { code: -32603, message: 'Internal error' } });
      })
      .finally(() => {
        stream.close();
        call.done();
      });
    return stream.response;
  }
}
