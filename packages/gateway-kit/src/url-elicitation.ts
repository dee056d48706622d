/**
 * A URL-mode elicitation the gateway itself asks a 2026-07-28 client for, as a
 * multi round-trip step (MRTR, SEP-2322): an `input_required` result whose
 * `inputRequests` are `elicitation/create` requests in `url` mode and whose
 * `requestState` is the gateway's own, HMAC-signed and self-contained (bound to
 * the user, the request's method and params, an expiry), so the client's retry
 * may reach any instance. MCP 2026-07-28 has no `-32042` (2025-11-25's
 * `URLElicitationRequiredError`): this is what replaces it. Used where the
 * gateway must have the user open a page before a request can be served: an
 * upstream to connect (`upstream/elicitation.ts`), a federated member's own
 * URL elicitation (`federation/url-elicitation.ts`).
 */
import { isObject } from '@mcp-gateway/internal/is-object';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { BridgeHttpError, RequestStateCodec, digestOf } from '@mcp-gateway/streamablehttp-proxy';
import { GatewayError, JsonRpcCode } from './errors.js';
import { gatewayError } from './protocol-version.js';

type Params = Record<string, unknown>;

/** Params left out of the digest that binds a state to its request: the envelope and the MRTR fields. */
const NOT_DIGESTED = ['_meta', 'inputResponses', 'requestState'];

/** The `requiredCapabilities` of a request whose client cannot open a URL for the user. */
const URL_ELICITATION = { elicitation: { url: {} } };

/** One page the user is asked to open. */
export interface UrlToOpen {
  url: string;
  /** Why, shown to the user. */
  message: string;
}

/** How long a URL elicitation's `requestState` is good for: opening a page may take a login and a consent. */
export const URL_ELICITATION_TTL_MS = 15 * 60_000;

/** What a {@link UrlElicitationStep} is made with. */
export interface UrlElicitationStepOptions {
  /** HMAC key of its states (one per purpose and service or endpoint: `requestStateKeyFor`). */
  key: Uint8Array;
  /** Starts each `requestState` it issues (tells its states from any other server's). */
  statePrefix: string;
  /** The `inputRequests` key of the (first) page; more pages are `<inputKey>_2`, `<inputKey>_3`, … */
  inputKey: string;
  /** How long a state is good for, in ms (default {@link URL_ELICITATION_TTL_MS}). */
  ttlMs?: number;
  /** The `serverInfo` the result names in its `_meta`. */
  serverInfo: { name: string; version: string };
  now?: () => number;
}

/** A retry of a request the step asked on. */
export interface UrlElicitationRetry {
  /** The request's params without the step's `requestState` and input responses. */
  params: Params;
  /** The user's answer: `decline` when any page was declined, else the first page's action (`accept`, `cancel`; `undefined`: none). */
  answered: string | undefined;
}

/** The gateway's own URL-mode elicitation step of 2026-07-28 requests. */
export class UrlElicitationStep {
  private readonly codec: RequestStateCodec;
  private readonly now: () => number;

  constructor(private readonly opts: UrlElicitationStepOptions) {
    this.codec = new RequestStateCodec(opts.key);
    this.now = opts.now ?? Date.now;
  }

  /** True when `requestState` is one of this step's (by its prefix; {@link retry} verifies it). */
  issued(requestState: unknown): requestState is string {
    return typeof requestState === 'string' && requestState.startsWith(this.opts.statePrefix);
  }

  /**
   * Reads the retry of `sub`'s request `method` whose `params` carry a state of this step
   * ({@link issued}): verified (another user's, another request's, an expired or altered one
   * throws the `-32602` HTTP 400 refusal, to answer the request's id with), then left out with
   * the step's input responses.
   */
  retry(sub: string, method: string, params: Params): UrlElicitationRetry {
    const { requestState, inputResponses, ...rest } = params;
    try {
      this.codec.verify((requestState as string).slice(this.opts.statePrefix.length), {
        user: sub,
        method,
        digest: digestOf(params, NOT_DIGESTED),
        now: this.now(),
        // The refusal's id is the caller's, given where it is answered.
        id: 0,
      });
    } catch (err) {
      if (!(err instanceof BridgeHttpError)) throw err;
      throw gatewayError(err);
    }
    const responses = isObject(inputResponses) ? { ...inputResponses } : {};
    let answered: string | undefined;
    for (const key of Object.keys(responses)) {
      if (!this.ownKey(key)) continue;
      const answer = responses[key];
      const action = isObject(answer) && typeof answer.action === 'string' ? answer.action : undefined;
      if (action === 'decline' || (key === this.opts.inputKey && answered !== 'decline')) answered = action;
      delete responses[key];
    }
    return {
      params: Object.keys(responses).length ? { ...rest, inputResponses: responses } : rest,
      answered,
    };
  }

  /**
   * The `input_required` result asking `sub`'s client to have the user open `pages`, for the
   * request `method` with `params` (its retry carries the `requestState`). Its client must
   * declare URL-mode elicitation in the request's `_meta`: else throws `-32021` (HTTP 400,
   * `data.requiredCapabilities`), whose message ends with `purpose` (`to have you …`).
   */
  ask(sub: string, method: string, params: Params, pages: readonly UrlToOpen[], purpose: string): Params {
    const meta = isObject(params._meta) ? params._meta : {};
    const caps = meta[MCP_META_KEYS.clientCapabilities];
    const elicitation = isObject(caps) ? caps.elicitation : undefined;
    if (!isObject(elicitation) || elicitation.url === undefined) {
      throw new GatewayError(
        400,
        JsonRpcCode.MissingRequiredClientCapability,
        `Missing required client capability: elicitation (url mode), ${purpose}`,
        {},
        { requiredCapabilities: URL_ELICITATION },
      );
    }
    const requestState =
      this.opts.statePrefix +
      this.codec.sign({
        u: sub,
        exp: this.now() + (this.opts.ttlMs ?? URL_ELICITATION_TTL_MS),
        m: method,
        d: digestOf(params, NOT_DIGESTED),
        s: [],
      });
    const inputRequests: Params = {};
    pages.forEach(({ url, message }, i) => {
      inputRequests[i === 0 ? this.opts.inputKey : `${this.opts.inputKey}_${i + 1}`] = {
        method: 'elicitation/create',
        params: { mode: 'url', message, url },
      };
    });
    return {
      resultType: 'input_required',
      inputRequests,
      requestState,
      _meta: { [MCP_META_KEYS.serverInfo]: this.opts.serverInfo },
    };
  }

  /** `inputKey`, or `inputKey_<n>`. */
  private ownKey(key: string): boolean {
    const base = this.opts.inputKey;
    return key === base || (key.startsWith(`${base}_`) && /^\d+$/.test(key.slice(base.length + 1)));
  }
}
