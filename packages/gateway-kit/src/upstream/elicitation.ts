import { randomUUID } from 'node:crypto';
import { GatewayError, JsonRpcCode } from '../errors.js';
import { MRTR_METHODS, requestEra, type ProtocolEra } from '../protocol-version.js';
import { UrlElicitationStep } from '../url-elicitation.js';
import { VERSION } from '../version.js';

/** The `inputRequests` key under which the gateway asks a 2026-07-28 client to have the user connect. */
export const SIGN_IN_INPUT_KEY = 'upstream_sign_in';

/** Marks a `requestState` the gateway issued (a sign-in step), not the upstream. */
const STATE_PREFIX = 'mcp-gateway-sign-in:';

/** How long a sign-in `requestState` is good for: connecting takes a login and a consent. */
const STATE_TTL_MS = 15 * 60_000;

type Params = Record<string, unknown>;

/** What the answer names: the service, the page where the user connects it, and the error's text (`UpstreamSignInRequired`). */
export interface SignInNeeded {
  service: string;
  connectUrl: string;
  message: string;
}

/** One JSON-RPC request, as the body carried it. */
interface RpcRequest {
  id: string | number;
  method: string;
  params: Params;
}

/** One MCP request to an `oauth` service, read before it goes upstream. */
export interface SignInTurn {
  request: Request;
  /**
   * The body to forward: the one sent, or, for the retry of the gateway's own `input_required`,
   * without its `requestState` and input response (the upstream issued neither).
   */
  body: string | undefined;
  /** On that retry: the user's answer to the connect step (`accept`, `decline`, `cancel`; `undefined`: none). */
  answered?: string | undefined;
}

const isObject = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What a user who has not connected a service's upstream yet is answered, by
 * protocol era. A 2025 session gets the URL-mode elicitation error of MCP
 * 2025-11-25 (`-32042`). A 2026-07-28 `tools/call`, `prompts/get` or
 * `resources/read` gets an `input_required` result (MRTR) whose
 * `inputRequests` ask for a URL-mode `elicitation/create` of the connect page
 * and whose `requestState` (HMAC-signed, bound to the user, the request and
 * an expiry) the client sends back on its retry; that retry goes upstream
 * without it once the user has connected, and is asked again otherwise. Its
 * client must declare URL-mode elicitation (else `-32021`); any other 2026
 * request, or a retry the user declined, gets `-32000` naming the page. The
 * step itself is the gateway's one URL elicitation step ({@link UrlElicitationStep}).
 */
export class SignInElicitation {
  private readonly step: UrlElicitationStep;

  /** `key`: the service's HMAC key ({@link requestStateKeyFor} with `upstream-sign-in`). */
  constructor(key: Uint8Array, now: () => number = Date.now) {
    this.step = new UrlElicitationStep({
      key,
      statePrefix: STATE_PREFIX,
      inputKey: SIGN_IN_INPUT_KEY,
      ttlMs: STATE_TTL_MS,
      serverInfo: { name: 'mcp-gateway', version: VERSION },
      now,
    });
  }

  /**
   * Reads one request of `sub`. A 2026-07-28 retry carrying a `requestState` of the gateway's is
   * verified (another user's, another request's, an expired or altered one: the `-32602` HTTP 400
   * response to send instead) and its body made the one the upstream gets.
   */
  read(request: Request, body: string | undefined, sub: string): SignInTurn | Response {
    // Most requests carry no state of the gateway's: nothing is parsed for them here.
    if (body === undefined || !body.includes(STATE_PREFIX)) return { request, body };
    const { era, json, message } = parseTurn(request, body);
    if (era !== 'modern' || !message || !MRTR_METHODS.has(message.method)) return { request, body };
    if (!this.step.issued(message.params.requestState)) return { request, body };
    try {
      const { params, answered } = this.step.retry(sub, message.method, message.params);
      return { request, body: JSON.stringify({ ...(json as Params), params }), answered };
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      return err.toResponse(message.id);
    }
  }

  /** The answer to `turn` of `sub`, who must connect the upstream first (`UpstreamSignInRequired`). */
  answer(err: SignInNeeded, turn: SignInTurn, sub: string): Response {
    // The digest binds the state to what the retry carries besides `requestState` and `inputResponses`.
    const { era, message } = parseTurn(turn.request, turn.body);
    if (era !== 'modern') return urlElicitationRequired(err, message?.id);
    if (!message || !MRTR_METHODS.has(message.method)) {
      // Nothing to ask the client on (SEP-2322): the page is named in the error.
      return refusal(err.message, message?.id);
    }
    if (turn.answered === 'decline') {
      return refusal(
        `you declined to connect your account at service "${err.service}", which this request needs (connect it at ${err.connectUrl})`,
        message.id,
      );
    }
    let result: Params;
    try {
      const page = { url: err.connectUrl, message: connectMessage(err) };
      const purpose = `to have you connect your account at service "${err.service}" (${err.connectUrl})`;
      result = this.step.ask(sub, message.method, message.params, [page], purpose);
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      return e.toResponse(message.id);
    }
    return Response.json(
      { jsonrpc: '2.0', id: message.id, result },
      { headers: { 'cache-control': 'no-store' } },
    );
  }
}

const connectMessage = (err: SignInNeeded) =>
  `Connect your account at service "${err.service}" to use it through this gateway.`;

/**
 * The URL-mode elicitation error of MCP 2025-11-25 (`-32042`,
 * `URLElicitationRequiredError`), whose `data.elicitations` carries the
 * gateway page where the user connects the upstream. A JSON-RPC request gets
 * it as its response (HTTP 200, its own id), so clients surface the URL;
 * anything else (a notification, a GET stream) gets it with HTTP 403.
 */
function urlElicitationRequired(err: SignInNeeded, id: string | number | undefined): Response {
  const data = {
    elicitations: [
      { mode: 'url', elicitationId: randomUUID(), url: err.connectUrl, message: connectMessage(err) },
    ],
  };
  const refused = new GatewayError(
    id === undefined ? 403 : 200,
    JsonRpcCode.UrlElicitationRequired,
    err.message,
    {},
    data,
  );
  return refused.toResponse(id ?? null);
}

/** A 2026-07-28 request that cannot be served until the user connects (`-32000`, the message names the page). */
function refusal(message: string, id: string | number | undefined): Response {
  const refused = new GatewayError(id === undefined ? 403 : 200, JsonRpcCode.BackendUnavailable, message);
  return refused.toResponse(id ?? null);
}

/** The body's JSON, its JSON-RPC request and the wire it speaks. */
function parseTurn(
  request: Request,
  body: string | undefined,
): { era: ProtocolEra; json: unknown; message: RpcRequest | undefined } {
  let json: unknown;
  try {
    json = body === undefined ? undefined : (JSON.parse(body) as unknown);
  } catch {
    json = undefined;
  }
  const header = (name: string) => request.headers.get(name);
  const era = requestEra(json, header('mcp-protocol-version'), header('mcp-session-id'));
  return { era, json, message: rpcRequest(json) };
}

/** The JSON-RPC request `json` is (a request id, a method), or `undefined`. */
function rpcRequest(json: unknown): RpcRequest | undefined {
  if (!isObject(json) || typeof json.method !== 'string') return undefined;
  if (typeof json.id !== 'string' && typeof json.id !== 'number') return undefined;
  return { id: json.id, method: json.method, params: isObject(json.params) ? json.params : {} };
}
