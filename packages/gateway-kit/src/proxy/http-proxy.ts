import { parseBearerChallenge } from '@mcp-gateway/internal/bearer-challenge';
import type { HttpServiceConfig } from '../config/schema.js';
import { GatewayError, JsonRpcCode } from '../errors.js';
import { AddressRefusedError, type UpstreamFetch } from '../http/address-guard.js';
import type { Identity } from '../identity.js';
import type { HopTracer } from '../telemetry/mcp-trace.js';
import { UpstreamEndpointRefused } from '../upstream/oauth-client.js';
import { UpstreamSignInRequired, type UpstreamCredentialSource } from '../upstream/sign-in.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and headers the gateway owns; never copied across. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/**
 * Request headers never forwarded upstream: the client's credentials (token, DPoP proof), identity
 * claims, and claims about where the request came from (`X-Forwarded-*` too), which only a proxy
 * may make.
 */
const CLIENT_ONLY = new Set([
  'authorization',
  'dpop',
  'cookie',
  'x-user-id',
  'x-user-name',
  'x-client-id',
  'x-scopes',
  'forwarded',
  'x-real-ip',
]);

export interface HttpProxyOptions {
  /**
   * Upstream fetch (default: global fetch). Runtime services (added through the admin API) get
   * the guarded one, which refuses internal addresses ({@link AddressRefusedError}).
   */
  fetch?: UpstreamFetch;
  /** Per-user upstream tokens, for a service with `credentials: { type: oauth }`. */
  upstream?: UpstreamCredentialSource;
}

/**
 * Reverse proxy to an upstream Streamable HTTP MCP server. Bodies stream both
 * ways (SSE responses are passed through chunk by chunk; client disconnects
 * cancel the upstream request). The client's `Authorization` header and
 * cookies are never forwarded: the upstream sees the gateway's own credential
 * (bearer token or header from the config, or the user's own upstream token
 * with upstream sign-in) and `X-User-Id` / `X-User-Name`. An upstream 401/403
 * becomes a 502 for the client, whose token was fine, so it does not start an
 * OAuth dance against the upstream; with upstream sign-in a 401 first
 * refreshes the user's upstream tokens and retries once, a 403
 * `insufficient_scope` naming scopes the user's sign-in did not ask for yet
 * and the next one will asks them to connect again for those (step-up, once
 * per set of scopes),
 * and a user who has not connected the upstream is asked to, with the page
 * to do it: `-32042` in
 * a 2025 session, an `input_required` URL elicitation on the 2026-07-28 wire
 * ({@link SignInElicitation}), whose `server/discover` and lists get the
 * upstream's public answers seen on the way to connected users.
 */
export class HttpServiceProxy {
  private readonly fetchImpl: UpstreamFetch;
  private readonly upstream: UpstreamCredentialSource | undefined;

  constructor(
    readonly name: string,
    private readonly service: HttpServiceConfig,
    opts: HttpProxyOptions = {},
  ) {
    this.fetchImpl = opts.fetch ?? fetch;
    this.upstream = opts.upstream;
  }

  /**
   * Forwards `request` (already authorised for `identity`) to the upstream; `body` is the body
   * when it was read already, `signal` (default `request.signal`) the client's disconnect, `trace`
   * (telemetry on) makes each upstream request a child span and sends its `traceparent`.
   */
  async handle(
    request: Request,
    identity: Identity,
    body?: string,
    signal?: AbortSignal,
    trace?: HopTracer,
  ): Promise<Response> {
    const client = signal ?? request.signal;
    const headers = new Headers();
    request.headers.forEach((value, key) => {
      if (HOP_BY_HOP.has(key) || CLIENT_ONLY.has(key) || key.startsWith('x-forwarded-')) return;
      headers.set(key, value);
    });
    const cred = this.service.credentials;
    if (cred?.type === 'bearer') headers.set('authorization', `Bearer ${cred.token}`);
    else if (cred?.type === 'header') headers.set(cred.name, cred.value);
    if (this.service.forwardIdentity) {
      headers.set('x-user-id', identity.sub);
      if (identity.name) headers.set('x-user-name', encodeHeader(identity.name));
    }
    if (!this.upstream) return this.relay(await this.send({ request, headers, body, client, trace }));
    const turn = this.upstream.elicitation.read(request, body, identity.sub);
    // A `requestState` of the gateway's that does not hold (another user's or request's, expired, altered).
    if (turn instanceof Response) return turn;
    const out = { request, headers, body: turn.body, client, trace };
    try {
      // A public `server/discover` or list is kept on the way, for users who have not connected yet.
      return this.upstream.elicitation.observe(
        turn,
        await this.withUpstreamToken(out, identity.sub, this.upstream),
      );
    } catch (err) {
      if (err instanceof UpstreamSignInRequired)
        return this.upstream.elicitation.answer(err, turn, identity.sub);
      // Its sign-in (a token refresh) was sent somewhere the address rules refuse.
      if (err instanceof AddressRefusedError) throw this.signInRefused(err.range);
      if (err instanceof UpstreamEndpointRefused) throw this.signInRefused(undefined);
      throw err;
    }
  }

  /**
   * The upstream's sign-in (its authorization server or token endpoint) resolves where the
   * gateway may not go: 502, naming at most the kind of address; the user's tokens are kept.
   */
  private signInRefused(range: string | undefined): GatewayError {
    return new GatewayError(
      502,
      JsonRpcCode.BackendUnavailable,
      `service "${this.name}" is unavailable: its upstream's sign-in ${range ? `resolves to a ${range} address, ` : ''}is further inside the network than the gateway may go for it`,
    );
  }

  /** An upstream the address rule refused: 502, naming the kind of address, not the address (the host is the admin's). */
  private refused(err: AddressRefusedError): GatewayError {
    return new GatewayError(
      502,
      JsonRpcCode.BackendUnavailable,
      `service "${this.name}" is unavailable: its upstream host resolves to a ${err.range} address, which services added through the admin API may not reach`,
    );
  }

  /**
   * Sends with the user's upstream token. On a 401 the tokens are refreshed
   * once (its challenge handed over: the upstream may have moved, and its
   * `scope` is kept for the next sign-in) and the request sent again when its
   * body can be (a second 401 is a 502); when the refresh is refused the user
   * must connect again ({@link UpstreamSignInRequired} from `authorization`).
   * A 403 `insufficient_scope` may ask the user to connect again with more
   * scopes (`UpstreamStepUpRequired`: only when that sign-in will ask for all
   * of them); otherwise it is a 502.
   */
  private async withUpstreamToken(
    out: Outgoing,
    sub: string,
    upstream: UpstreamCredentialSource,
  ): Promise<Response> {
    const { request, headers, body, trace } = out;
    const sent = await upstream.authorization(sub, trace);
    headers.set('authorization', sent);
    const first = await this.send(out);
    if (first.status !== 401) return this.relay(await this.scopeChecked(first, sub, upstream));
    const challenge = await parseBearerChallenge(first).catch(() => undefined);
    await first.body?.cancel();
    const refreshed = await upstream.refused(sub, sent, challenge, trace);
    const replayable = body !== undefined || request.method === 'GET' || request.method === 'DELETE';
    if (refreshed && !replayable) return this.relay(new Response(null, { status: 401 }));
    headers.set('authorization', await upstream.authorization(sub, trace));
    return this.relay(await this.scopeChecked(await this.send(out), sub, upstream));
  }

  /**
   * `res` unchanged, unless it is a 403 `insufficient_scope` that calls for a step-up: then
   * `UpstreamStepUpRequired` (its body dropped).
   */
  private async scopeChecked(
    res: Response,
    sub: string,
    upstream: UpstreamCredentialSource,
  ): Promise<Response> {
    if (res.status !== 403) return res;
    const challenge = await parseBearerChallenge(res).catch(() => undefined);
    if (challenge?.error !== 'insufficient_scope') return res;
    try {
      await upstream.insufficientScope(sub, challenge.scope);
    } catch (err) {
      await res.body?.cancel();
      throw err;
    }
    return res;
  }

  /** One request to the upstream, with the service's deadline and the client's disconnect (a child span when traced). */
  private async send(out: Outgoing): Promise<Response> {
    const { request, headers, body, client } = out;
    const target = new URL(this.service.url);
    target.search = new URL(request.url).search;
    const hop = out.trace?.hop('mcp.upstream', {
      'mcp.gateway.service': this.name,
      'http.request.method': request.method,
      'server.address': target.hostname,
      'server.port': Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
      'url.full': `${target.origin}${target.pathname}`,
      'network.transport': 'tcp',
    });
    if (hop) for (const [k, v] of Object.entries(hop.carrier)) headers.set(k, v);
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(client.reason);
    client.addEventListener('abort', onClientAbort, { once: true });
    const timer = setTimeout(
      () => controller.abort(new GatewayError(504, JsonRpcCode.BackendTimeout, 'timeout')),
      this.service.timeout * 1000,
    );
    const init: RequestInit & { duplex?: 'half' } = {
      method: request.method,
      headers,
      signal: controller.signal,
      redirect: 'manual',
    };
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'DELETE') {
      if (body !== undefined) init.body = body;
      else if (request.body) {
        init.body = request.body;
        init.duplex = 'half';
      }
    }
    try {
      const res = await this.fetchImpl(target, init);
      hop?.end({ status: res.status });
      return res;
    } catch (err) {
      client.removeEventListener('abort', onClientAbort);
      const timedOut = controller.signal.reason instanceof GatewayError;
      hop?.end({ error: timedOut ? 'timeout' : describe(err) });
      if (err instanceof AddressRefusedError) throw this.refused(err);
      if (timedOut) {
        throw new GatewayError(
          504,
          JsonRpcCode.BackendTimeout,
          `service "${this.name}" did not answer within ${this.service.timeout}s`,
        );
      }
      throw new GatewayError(
        502,
        JsonRpcCode.BackendUnavailable,
        `service "${this.name}" is unavailable (${describe(err)})`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The upstream's answer as the client gets it: a refusal of the gateway's credential becomes 502. */
  private async relay(upstream: Response): Promise<Response> {
    if (upstream.status === 401 || upstream.status === 403) {
      await upstream.body?.cancel();
      throw new GatewayError(
        502,
        JsonRpcCode.BackendUnavailable,
        `service "${this.name}" refused the gateway's credential (upstream ${upstream.status})`,
      );
    }
    const out = new Headers();
    upstream.headers.forEach((value, key) => {
      if (HOP_BY_HOP.has(key) || key === 'set-cookie' || key === 'www-authenticate') return;
      out.set(key, value);
    });
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: out,
    });
  }

  /** Ready when the upstream answers at all (any HTTP status). */
  async ready(): Promise<boolean> {
    try {
      const res = await this.fetchImpl(this.service.url, {
        method: 'GET',
        signal: AbortSignal.timeout(2000),
      });
      await res.body?.cancel();
      return true;
    } catch {
      return false;
    }
  }
}

/** One request on its way to the upstream. */
interface Outgoing {
  request: Request;
  headers: Headers;
  body: string | undefined;
  client: AbortSignal;
  trace: HopTracer | undefined;
}

/** Header values are ByteStrings: non-Latin-1 names are percent-encoded. */
function encodeHeader(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v);
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error).message ?? String(err);
}
