import { hostnameOf, isLoopbackHost } from '@mcp-gateway/internal/host';
import { BridgeHttpError, JsonRpcCode, modernRefusal } from './errors.js';
import { errorReply, jsonReply, pathnameOf, tooLarge, type Reply, type RequestView } from './exchange.js';
import { classifyMessages } from './batch.js';
import type { Logger } from './log.js';
import type { BridgeMetrics } from './metrics.js';
import type { Clock, IdentityResolver, RequestHeaders } from './options.js';
import {
  isModernProtocolVersion,
  isSupportedProtocolVersion,
  supportsPrimingEvents,
  servedProtocolVersions,
  unsupportedProtocolVersion,
  DEFAULT_PROTOCOL_VERSION,
  requestEra,
} from './protocol-version.js';
import { checkParams } from './params.js';
import type { ModernHandler } from './modern/handler.js';
import type { JsonRpcId } from './jsonrpc.js';
import type { IncomingMessage, Session } from './session.js';
import type { SessionRegistry } from './sessions.js';

/** Settings the HTTP layer reads on every request. */
export interface HttpConfig {
  path: string;
  jsonResponse: boolean;
  allowedOrigins: string[];
  allowedHosts: 'loopback' | string[] | undefined;
  envFromHeaders: [header: string, envName: string][];
  identity: IdentityResolver | undefined;
  /** Serves MCP 2026-07-28 requests; `undefined`: they are treated as 2025 traffic. */
  modern?: ModernHandler | undefined;
  maxBodyBytes: number;
  clock: Clock;
  logger: Logger;
  metrics: BridgeMetrics;
  maxSessions: number;
  maxSessionsPerUser: number;
  /** True when a child could be spawned now (for `/readyz`). */
  canSpawn: () => boolean;
}

const ALLOW = 'GET, POST, DELETE';
const ALLOWED_REQUEST_HEADERS =
  'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name';
const EXPOSED_HEADERS = 'mcp-session-id, mcp-protocol-version';

/**
 * Streamable HTTP transport (MCP 2025-11-25, "Transports"): method + path →
 * checks → the session. Every refusal is a {@link BridgeHttpError} turned
 * into a JSON-RPC error body in one place.
 */
export class HttpHandler {
  constructor(
    private readonly cfg: HttpConfig,
    private readonly registry: SessionRegistry,
  ) {}

  /** Handles one request. Never throws. */
  async handle(request: RequestView): Promise<Reply> {
    let cors: Record<string, string> | undefined;
    let reply: Reply;
    try {
      const pathname = pathnameOf(request.url);
      if (pathname === this.cfg.path) {
        this.checkHost(request);
        cors = this.checkOrigin(request);
        reply = await this.mcp(request);
      } else if (request.method === 'GET' && pathname === '/healthz') {
        reply = jsonReply(200, JSON.stringify({ status: 'ok' }));
      } else if (request.method === 'GET' && pathname === '/readyz') {
        const ready = this.cfg.canSpawn();
        reply = jsonReply(ready ? 200 : 503, JSON.stringify({ status: ready ? 'ready' : 'unavailable' }));
      } else if (request.method === 'GET' && pathname === '/metrics') {
        reply = {
          status: 200,
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
          body: Buffer.from(
            this.cfg.metrics.render({
              sessions: this.registry.size,
              pool: this.registry.pooled,
              warm: this.registry.warm,
              maxSessions: this.cfg.maxSessions,
              maxSessionsPerUser: this.cfg.maxSessionsPerUser,
            }),
          ),
        };
      } else {
        throw new BridgeHttpError(404, JsonRpcCode.ServerError, 'Not Found');
      }
    } catch (err) {
      if (err instanceof BridgeHttpError)
        reply = errorReply(this.looksModern(request) ? modernRefusal(err) : err, cors);
      else {
        this.cfg.logger.error('request failed', { error: err instanceof Error ? err.message : String(err) });
        reply = errorReply(new BridgeHttpError(500, JsonRpcCode.InternalError, 'Internal error'), cors);
      }
      this.cfg.metrics.countHttp(request.method, reply.status);
      return reply;
    }
    if (cors) Object.assign(reply.headers, cors);
    const method = request.method;
    if (reply.late) reply.late.settled((final) => this.cfg.metrics.countHttp(method, final.status));
    else this.cfg.metrics.countHttp(method, reply.status);
    return reply;
  }

  private async mcp(request: RequestView): Promise<Reply> {
    switch (request.method) {
      case 'POST':
        return this.post(request);
      case 'GET':
        return this.get(request);
      case 'DELETE':
        return this.delete(request);
      case 'OPTIONS':
        return {
          status: 204,
          headers: {
            'access-control-allow-methods': ALLOW,
            'access-control-allow-headers': [
              ALLOWED_REQUEST_HEADERS,
              ...this.cfg.envFromHeaders.map(([h]) => h),
            ].join(', '),
            'access-control-max-age': '600',
          },
        };
      default:
        throw new BridgeHttpError(405, JsonRpcCode.ServerError, 'Method Not Allowed', { allow: ALLOW });
    }
  }

  private async post(request: RequestView): Promise<Reply> {
    const accept = request.header('accept') ?? '';
    const acceptsSse = accept.includes('text/event-stream');
    const acceptsJson =
      accept.includes('application/json') || accept.includes('*/*') || accept.includes('application/*');
    if (!acceptsSse && !acceptsJson) {
      throw new BridgeHttpError(
        406,
        JsonRpcCode.ServerError,
        'Not Acceptable: Accept must list application/json or text/event-stream',
      );
    }
    if (!isJsonMediaType(request.header('content-type'))) {
      throw new BridgeHttpError(
        415,
        JsonRpcCode.ServerError,
        'Unsupported Media Type: Content-Type must be application/json',
      );
    }
    const body = request.body ?? (request.loadBody ? await request.loadBody() : undefined);
    if (body && body.byteLength > this.cfg.maxBodyBytes) throw tooLarge(this.cfg.maxBodyBytes);
    // The caller's parse of this very body (or its message, when it sent no body): not parsed again.
    const given = request.json !== undefined && body === request.body;
    let parsed: unknown;
    try {
      parsed = given ? request.json : JSON.parse(utf8(body));
    } catch {
      throw new BridgeHttpError(400, JsonRpcCode.ParseError, 'Parse error: body is not JSON');
    }
    if (
      this.cfg.modern &&
      requestEra(parsed, request.header('mcp-protocol-version'), request.header('mcp-session-id')) ===
        'modern'
    ) {
      // The user's pool key: the identity, or one shared anonymous pool when the bridge has no identity.
      const found = this.identityOf(request);
      const identity = found instanceof Promise ? await found : found;
      return this.cfg.modern.handle(
        parsed,
        (n) => request.header(n),
        identity ?? '',
        this.envFor(request),
        acceptsSse,
        request.observer,
        request.clientGone,
        request.lateAnswer === true,
      );
    }
    // A 2025 message is forwarded as the client's own text (decoded here: 2026 requests never need it).
    const text = body || !given ? utf8(body) : JSON.stringify(parsed);
    const batch = Array.isArray(parsed);
    const values: unknown[] = batch ? (parsed as unknown[]) : [parsed];
    const items: IncomingMessage[] = [];
    let initialize: IncomingMessage | undefined;
    for (const [i, c] of classifyMessages(values, batch).entries()) {
      // One message: forward the client's own text; in a batch, each element on its own line.
      const line = batch
        ? JSON.stringify(values[i])
        : text.includes('\n') || text.includes('\r')
          ? text.replace(/[\r\n]+/g, ' ')
          : text;
      checkParams(c);
      const item = { c, line };
      if (c.kind === 'request' && c.method === 'initialize') initialize = item;
      items.push(item);
    }
    const mode = this.cfg.jsonResponse ? (acceptsJson ? 'json' : 'sse') : acceptsSse ? 'sse' : 'json';
    if (initialize) {
      const params = (initialize.c.msg.params ?? {}) as { protocolVersion?: unknown };
      const version =
        typeof params.protocolVersion === 'string' ? params.protocolVersion : DEFAULT_PROTOCOL_VERSION;
      const found = this.identityOf(request);
      const identity = found instanceof Promise ? await found : found;
      // The per-user cap counts sessions by identity; without one the bridge cannot tell users apart.
      const session = this.registry.open(identity, this.envFor(request));
      try {
        return await session.post(items, {
          mode,
          batch,
          resumable: supportsPrimingEvents(version),
          observer: request.observer,
        });
      } catch (err) {
        void session.close('initialize failed');
        throw err;
      }
    }
    const only = !batch && items[0]?.c.kind === 'request' ? items[0].c.id : null;
    const session = await this.session(request, only);
    const version = this.protocolVersion(request) ?? session.protocolVersion ?? DEFAULT_PROTOCOL_VERSION;
    return session.post(items, {
      mode,
      batch,
      resumable: supportsPrimingEvents(version),
      observer: request.observer,
    });
  }

  private async get(request: RequestView): Promise<Reply> {
    if (!(request.header('accept') ?? '').includes('text/event-stream')) {
      throw new BridgeHttpError(
        406,
        JsonRpcCode.ServerError,
        'Not Acceptable: Accept must list text/event-stream',
      );
    }
    const session = await this.session(request);
    this.protocolVersion(request);
    return session.get(request.header('last-event-id'));
  }

  private async delete(request: RequestView): Promise<Reply> {
    const session = await this.session(request);
    this.protocolVersion(request);
    void session.close('deleted by client');
    return { status: 200, headers: {} };
  }

  /**
   * The session named by `Mcp-Session-Id`: 404 when unknown, ended or someone else's. Without one,
   * 400: `-32022` listing the served versions when `MCP-Protocol-Version` names a revision the
   * bridge does not serve (a client of a newer revision learns what to retry with; `requestId`
   * is echoed), else `-32000` (a 2025 request outside a session).
   */
  private async session(request: RequestView, requestId: JsonRpcId | null = null): Promise<Session> {
    const id = request.header('mcp-session-id');
    if (!id) {
      const version = request.header('mcp-protocol-version')?.trim();
      const served = servedProtocolVersions(this.cfg.modern !== undefined);
      if (version !== undefined && !served.includes(version)) {
        throw unsupportedProtocolVersion(version, served, requestId);
      }
      throw new BridgeHttpError(
        400,
        JsonRpcCode.ServerError,
        'Bad Request: Mcp-Session-Id header is required',
      );
    }
    const session = this.registry.get(id);
    if (!session || session.closed) throw notFound();
    if (request.caller || this.cfg.identity) {
      const found = this.identityOf(request);
      const identity = found instanceof Promise ? await found : found;
      if (identity !== session.identity) throw notFound();
    }
    return session;
  }

  /**
   * True when a refused request is a 2026-07-28 one as far as its headers tell (a modern
   * `MCP-Protocol-Version`, no `Mcp-Session-Id`), so its refusal gets a 2026 code
   * ({@link modernRefusal}) even when the body was never read (406, 413, 415, 403).
   */
  private looksModern(request: RequestView): boolean {
    if (!this.cfg.modern || request.header('mcp-session-id') !== null) return false;
    const version = request.header('mcp-protocol-version');
    return version !== null && isModernProtocolVersion(version.trim());
  }

  /** The caller: the one an embedder vouches for, else the `identity` resolver's answer. */
  private identityOf(request: RequestView): string | undefined | Promise<string | undefined> {
    if (request.caller) return request.caller.identity;
    return this.cfg.identity?.(identityView(request));
  }

  /** Validates `MCP-Protocol-Version` (400 when unsupported); returns it when present. */
  private protocolVersion(request: RequestView): string | undefined {
    const v = request.header('mcp-protocol-version');
    if (v === null) return undefined;
    if (!isSupportedProtocolVersion(v)) {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.ServerError,
        `Bad Request: unsupported MCP-Protocol-Version: ${v}`,
      );
    }
    return v;
  }

  private checkHost(request: RequestView): void {
    const allowed = this.cfg.allowedHosts;
    if (!allowed) return;
    const host = hostnameOf(request.header('host') ?? new URL(request.url).host);
    const ok = allowed === 'loopback' ? isLoopbackHost(host) : allowed.includes(host);
    if (!ok) throw new BridgeHttpError(403, JsonRpcCode.ServerError, 'Forbidden: Host not allowed');
  }

  /** Origin allow-list (MCP transports: servers MUST validate Origin). Returns CORS headers for allowed origins. */
  private checkOrigin(request: RequestView): Record<string, string> | undefined {
    const origin = request.header('origin');
    if (origin === null) return undefined;
    const list = this.cfg.allowedOrigins;
    let ok = list.includes('*') || list.includes(origin);
    if (!ok) {
      try {
        ok = new URL(origin).host === (request.header('host') ?? new URL(request.url).host);
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new BridgeHttpError(403, JsonRpcCode.ServerError, 'Forbidden: Origin not allowed');
    return {
      'access-control-allow-origin': origin,
      'access-control-expose-headers': EXPOSED_HEADERS,
      vary: 'Origin',
    };
  }

  private envFor(request: RequestView): Record<string, string> | undefined {
    if (request.caller) return request.caller.env;
    let env: Record<string, string> | undefined;
    for (const [header, name] of this.cfg.envFromHeaders) {
      const value = request.header(header);
      if (value !== null) (env ??= {})[name] = value;
    }
    return env;
  }
}

function notFound(): BridgeHttpError {
  return new BridgeHttpError(404, JsonRpcCode.SessionNotFound, 'Session not found');
}

/** `application/json`, with or without parameters, case-insensitive. */
export function isJsonMediaType(value: string | null): boolean {
  if (!value) return false;
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

/** What an {@link IdentityResolver} sees of a request: its headers (names case-insensitive). */
function identityView(request: RequestView): { headers: RequestHeaders } {
  return { headers: { get: (name) => request.header(name.toLowerCase()) } };
}

/** The DNS-rebinding guard's host-name rules (the repo's one copy, shared with fetch-server). */
export { hostnameOf, isLoopbackHost };

/** A body's UTF-8 text (`''` when there is none), without copying its bytes. */
function utf8(body: Uint8Array | undefined): string {
  return body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : '';
}
