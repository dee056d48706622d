/**
 * A member's URL-mode elicitation for a 2026-07-28 caller. A 2025 member (a
 * stdio child behind the bridge, a 2025-only `http` member) that needs the
 * user to open a page answers `-32042` (MCP 2025-11-25
 * `URLElicitationRequiredError`, `data.elicitations`), which 2026-07-28 has
 * no more. The endpoint answers its 2026-07-28 caller what that revision
 * expects instead: on `tools/call`, `prompts/get` and `resources/read` an
 * `input_required` result asking for each page with a URL-mode
 * `elicitation/create`, whose `requestState` is the endpoint's own
 * ({@link UrlElicitationStep}: signed, self-contained, any instance takes the
 * retry). The retry is verified, the endpoint's state and input responses
 * left out, and the call sent to the member again as the client first sent
 * it. A client that did not declare URL-mode elicitation gets `-32021`.
 * 2025 sessions get the member's `-32042` as it is.
 */
import { urlPagesOf } from '@mcp-gateway/internal/url-elicitation-pages';
import { JsonRpcCode } from '../errors.js';
import { MRTR_METHODS } from '../protocol-version.js';
import { UrlElicitationStep } from '../url-elicitation.js';
import { FEDERATED_SERVER_INFO } from './eras.js';
import type { MemberReply } from './member.js';

/** Marks a `requestState` the endpoint issued for a member's URL elicitation. */
const STATE_PREFIX = 'mcp-gateway-federated-url:';

/** The `inputRequests` key of the first page (`url_elicitation_2`, … for more). */
const INPUT_KEY = 'url_elicitation';

type Params = Record<string, unknown>;

/** A caller's request, as the step needs it. */
export interface UrlElicitationTurn {
  sub: string;
  method: string;
  /** The caller's params (its `_meta` envelope included). */
  params: Params;
}

/** A turn read: the params to serve it with, and whether the user declined the endpoint's last step. */
export interface ReadTurn {
  params: Params;
  declined: boolean;
}

/** The URL elicitations of one federated endpoint's members, for its 2026-07-28 callers. */
export class FederatedUrlElicitation {
  private readonly step: UrlElicitationStep;

  /** `key`: the endpoint's HMAC key ({@link requestStateKeyFor} with `federated-url-elicitation`). */
  constructor(key: Uint8Array, now?: () => number) {
    this.step = new UrlElicitationStep({
      key,
      statePrefix: STATE_PREFIX,
      inputKey: INPUT_KEY,
      serverInfo: FEDERATED_SERVER_INFO,
      now,
    });
  }

  /**
   * The params `turn` is served with: its own, or for the retry of the endpoint's step those
   * without its `requestState` and input responses (a state of another user or request, an
   * expired or altered one, throws `-32602`, HTTP 400).
   */
  read(turn: UrlElicitationTurn): ReadTurn {
    const { requestState } = turn.params;
    if (!MRTR_METHODS.has(turn.method) || !this.step.issued(requestState))
      return { params: turn.params, declined: false };
    const { params, answered } = this.step.retry(turn.sub, turn.method, turn.params);
    return { params, declined: answered === 'decline' };
  }

  /**
   * `reply` to `turn` for a 2026-07-28 caller: a member's `-32042` becomes the `input_required`
   * step (throws `-32021`, HTTP 400, when the client cannot open a URL); on another method, on a
   * retry the user declined, or without a page to open, a JSON-RPC error naming the pages
   * (`-32600`; `-32603` when the member named none). Any other reply is returned as it is.
   */
  answer(reply: MemberReply, turn: UrlElicitationTurn, declined: boolean): MemberReply {
    if (!('error' in reply) || reply.error.code !== JsonRpcCode.UrlElicitationRequired) return reply;
    const { message } = reply.error;
    const pages = urlPagesOf(reply.error.data);
    if (pages.length === 0) {
      const why = `${message} (the service asked for a URL elicitation without a page to open)`;
      return { error: { code: JsonRpcCode.InternalError, message: why } };
    }
    const urls = pages.map((p) => p.url).join(', ');
    if (!MRTR_METHODS.has(turn.method) || declined) {
      const what = declined ? 'you declined to open' : 'open';
      return { error: { code: JsonRpcCode.InvalidRequest, message: `${message} (${what} ${urls} first)` } };
    }
    const purpose = `to have you open ${urls}`;
    return { result: this.step.ask(turn.sub, turn.method, turn.params, pages, purpose) };
  }
}
