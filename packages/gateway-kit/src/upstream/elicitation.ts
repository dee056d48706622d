import { randomUUID } from 'node:crypto';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { BridgeHttpError, RequestStateCodec, digestOf } from '@mcp-gateway/streamablehttp-proxy';
import { GatewayError, JsonRpcCode } from '../errors.js';
import { MRTR_METHODS, gatewayError, requestEra, type ProtocolEra } from '../protocol-version.js';
import { VERSION } from '../version.js';

/** The `inputRequests` key under which the gateway asks a 2026-07-28 client to have the user connect. */
export const SIGN_IN_INPUT_KEY = 'upstream_sign_in';

/** Marks a `requestState` the gateway issued (a sign-in step), not the upstream. */
const STATE_PREFIX = 'mcp-gateway-sign-in:';

/** How long a sign-in `requestState` is good for: connecting takes a login and a consent. */
const STATE_TTL_MS = 15 * 60_000;

/** Params left out of the digest that binds a state to its request: the envelope and the MRTR fields. */
const NOT_DIGESTED = ['_meta', 'inputResponses', 'requestState'];

/** The `requiredCapabilities` of a 2026-07-28 request whose client cannot open a URL for the user. */
const URL_ELICITATION = { elicitation: { url: {} } };

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
 * request, or a retry the user declined, gets `-32000` naming the page.
 */
export class SignInElicitation {
  private readonly codec: RequestStateCodec;

  /** `key`: the service's HMAC key ({@link requestStateKeyFor} with `upstream-sign-in`). */
  constructor(
    key: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {
    this.codec = new RequestStateCodec(key);
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
    const { requestState, inputResponses, ...rest } = message.params;
    if (typeof requestState !== 'string' || !requestState.startsWith(STATE_PREFIX)) return { request, body };
    try {
      this.codec.verify(requestState.slice(STATE_PREFIX.length), {
        user: sub,
        method: message.method,
        digest: digestOf(message.params, NOT_DIGESTED),
        now: this.now(),
        id: message.id,
      });
    } catch (err) {
      if (!(err instanceof BridgeHttpError)) throw err;
      return gatewayError(err).toResponse(message.id);
    }
    const responses = isObject(inputResponses) ? { ...inputResponses } : {};
    const answer = responses[SIGN_IN_INPUT_KEY];
    delete responses[SIGN_IN_INPUT_KEY];
    const params = Object.keys(responses).length ? { ...rest, inputResponses: responses } : rest;
    return {
      request,
      body: JSON.stringify({ ...(json as Params), params }),
      answered: isObject(answer) && typeof answer.action === 'string' ? answer.action : undefined,
    };
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
    const meta = isObject(message.params._meta) ? message.params._meta : {};
    const caps = meta[MCP_META_KEYS.clientCapabilities];
    const elicitation = isObject(caps) ? caps.elicitation : undefined;
    if (!isObject(elicitation) || elicitation.url === undefined) {
      return new GatewayError(
        400,
        JsonRpcCode.MissingRequiredClientCapability,
        `Missing required client capability: elicitation (url mode), to have you connect your account at service "${err.service}" (${err.connectUrl})`,
        {},
        { requiredCapabilities: URL_ELICITATION },
      ).toResponse(message.id);
    }
    const requestState =
      STATE_PREFIX +
      this.codec.sign({
        u: sub,
        exp: this.now() + STATE_TTL_MS,
        m: message.method,
        d: digestOf(message.params, NOT_DIGESTED),
        s: [],
      });
    const result = {
      resultType: 'input_required',
      inputRequests: {
        [SIGN_IN_INPUT_KEY]: {
          method: 'elicitation/create',
          params: { mode: 'url', message: connectMessage(err), url: err.connectUrl },
        },
      },
      requestState,
      _meta: { [MCP_META_KEYS.serverInfo]: { name: 'mcp-gateway', version: VERSION } },
    };
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
