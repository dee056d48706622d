import { randomUUID } from 'node:crypto';
import { isObject } from '@mcp-gateway/internal/is-object';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { GatewayError, JsonRpcCode } from '../errors.js';
import { MODERN_PROTOCOL_VERSIONS, MRTR_METHODS, requestEra, type ProtocolEra } from '../protocol-version.js';
import { UrlElicitationStep } from '../url-elicitation.js';
import { VERSION } from '../version.js';
import { PublicAnswers, SHAREABLE_METHODS } from './public-answers.js';

/** The `inputRequests` key under which the gateway asks a 2026-07-28 client to have the user connect. */
export const SIGN_IN_INPUT_KEY = 'upstream_sign_in';

/** Marks a `requestState` the gateway issued (a sign-in step), not the upstream. */
const STATE_PREFIX = 'mcp-gateway-sign-in:';

type Params = Record<string, unknown>;

/**
 * What the answer names: the service, the page where the user connects it and the error's text
 * (`UpstreamSignInRequired`); `stepUp` when the user connected already and the upstream asks for
 * more access. Never the upstream's scopes: their text is the upstream's, not the gateway's to
 * show users.
 */
export interface SignInNeeded {
  service: string;
  connectUrl: string;
  message: string;
  stepUp?: boolean | undefined;
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

/**
 * What a user who has not connected a service's upstream yet is answered, by
 * protocol era. A 2025 session gets the URL-mode elicitation error of MCP
 * 2025-11-25 (`-32042`). A 2026-07-28 `tools/call`, `prompts/get` or
 * `resources/read` gets an `input_required` result (MRTR) whose
 * `inputRequests` ask for a URL-mode `elicitation/create` of the connect page
 * and whose `requestState` (HMAC-signed, bound to the user, the request and
 * an expiry) the client sends back on its retry; that retry goes upstream
 * without it once the user has connected, and is asked again otherwise. Its
 * client must declare URL-mode elicitation (else `-32021`). No other 2026
 * request may be answered `input_required`: a `server/discover` or a list gets
 * the upstream's public answer when one was seen ({@link PublicAnswers}), a
 * `server/discover` else a stand-in ({@link standInDiscover}) so a client
 * can go on to a call; anything else, or a retry the user declined, gets
 * `-32600` naming the page (never a code of the legacy `-32000`…`-32019`
 * range, which 2026-07-28 implementations should not use). The step itself is
 * the gateway's one URL elicitation step ({@link UrlElicitationStep}).
 */
export class SignInElicitation {
  private readonly step: UrlElicitationStep;
  /** The upstream's results any user may be given, seen on their way to connected users. */
  private readonly shared: PublicAnswers;

  /** `key`: the service's HMAC key ({@link requestStateKeyFor} with `upstream-sign-in`). */
  constructor(key: Uint8Array, now: () => number = Date.now) {
    this.step = new UrlElicitationStep({
      key,
      statePrefix: STATE_PREFIX,
      inputKey: SIGN_IN_INPUT_KEY,
      serverInfo: { name: 'mcp-gateway', version: VERSION },
      now,
    });
    this.shared = new PublicAnswers(now);
  }

  /**
   * The upstream's answer to `turn` as the client gets it: unchanged, its result kept on the way
   * when it is a 2026-07-28 `server/discover` or list the upstream marked public. Only those
   * methods' bodies are parsed here (their `Mcp-Method` header says so).
   */
  observe(turn: SignInTurn, res: Response): Response {
    const named = turn.request.headers.get('mcp-method');
    if (named === null || !SHAREABLE_METHODS.has(named) || hasQuery(turn.request)) return res;
    const { era, message } = parseTurn(turn.request, turn.body);
    if (era !== 'modern' || message?.method !== named) return res;
    return this.shared.watch(res, PublicAnswers.keyOf(named, message.params)!, message.id);
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
    // Nothing to ask the client on (SEP-2322): what the gateway knows, or the page named in an error.
    if (!message || !MRTR_METHODS.has(message.method)) return this.unasked(err, message, turn.request);
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
    return resultResponse(message.id, result);
  }

  /**
   * A 2026-07-28 request of a user who must connect, on which no input may be asked: the
   * upstream's public answer to it when one was seen (never for a URL with a query, which the
   * upstream gets too and may answer by: the key has no room for it); a `server/discover` else gets
   * a stand-in; anything else is refused naming the page.
   */
  private unasked(err: SignInNeeded, message: RpcRequest | undefined, request: Request): Response {
    if (!message) return refusal(err.message, undefined);
    const key = hasQuery(request) ? undefined : PublicAnswers.keyOf(message.method, message.params);
    const kept = key === undefined ? undefined : this.shared.get(key);
    if (kept) return resultResponse(message.id, kept);
    if (message.method === 'server/discover') return resultResponse(message.id, standInDiscover(err.service));
    return refusal(err.message, message.id);
  }
}

/**
 * The `server/discover` result (MCP 2026-07-28 server/discover) of a service whose upstream the
 * gateway has not heard from: the revisions it serves, the features a user can be asked to connect
 * on (tools, prompts, resources: a client that saw none would not ask for them), the service's name
 * as the title, never cached (`ttlMs: 0`, `private`: the upstream's own answer replaces it).
 */
export function standInDiscover(service: string): Record<string, unknown> {
  return {
    resultType: 'complete',
    supportedVersions: [...MODERN_PROTOCOL_VERSIONS],
    capabilities: { tools: {}, prompts: {}, resources: {} },
    ttlMs: 0,
    cacheScope: 'private',
    _meta: { [MCP_META_KEYS.serverInfo]: { name: 'mcp-gateway', title: service, version: VERSION } },
  };
}

/** A JSON-RPC result answering request `id`, never stored by HTTP caches. */
function resultResponse(id: string | number, result: Record<string, unknown>): Response {
  return Response.json({ jsonrpc: '2.0', id, result }, { headers: { 'cache-control': 'no-store' } });
}

const connectMessage = (err: SignInNeeded) =>
  err.stepUp
    ? `Connect your account at service "${err.service}" again: it needs more access than you allowed before.`
    : `Connect your account at service "${err.service}" to use it through this gateway.`;

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

/**
 * A 2026-07-28 request that cannot be served until the user connects: `-32600` (Invalid Request),
 * the message naming the page. Not `-32000` (BackendUnavailable): 2026-07-28 implementations should
 * not use the legacy `-32000`…`-32019` range (basic, "Error Codes"), and a refusal the client can
 * only get past by acting is mapped as the bridge maps its own (`modernRefusal`: not 5xx, `-32600`).
 */
function refusal(message: string, id: string | number | undefined): Response {
  const refused = new GatewayError(id === undefined ? 403 : 200, JsonRpcCode.InvalidRequest, message);
  return refused.toResponse(id ?? null);
}

/**
 * Whether `request`'s URL has a query. The upstream gets it as sent and may answer by it, so an
 * answer to such a URL is neither kept for others nor given in place of the upstream's.
 */
const hasQuery = (request: Request) => request.url.includes('?');

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
