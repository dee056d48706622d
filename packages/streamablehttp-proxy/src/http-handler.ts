import { BridgeHttpError, JsonRpcCode, errorResponse } from './errors.js';
import { classify, type JsonRpcId } from './jsonrpc.js';
import type { Logger } from './log.js';
import type { BridgeMetrics } from './metrics.js';
import type { Clock, IdentityResolver } from './options.js';
import {
  isSupportedProtocolVersion,
  supportsPrimingEvents,
  DEFAULT_PROTOCOL_VERSION,
} from './protocol-version.js';
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
  maxBodyBytes: number;
  clock: Clock;
  logger: Logger;
  metrics: BridgeMetrics;
  maxSessions: number;
  /** True when a child could be spawned now (for `/readyz`). */
  canSpawn: () => boolean;
}

const MAX_BATCH = 1000;
const ALLOW = 'GET, POST, DELETE';
const ALLOWED_REQUEST_HEADERS =
  'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id';
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
  async handle(request: Request): Promise<Response> {
    let cors: Record<string, string> | undefined;
    let response: Response;
    try {
      const url = new URL(request.url);
      if (url.pathname === this.cfg.path) {
        this.checkHost(request);
        cors = this.checkOrigin(request);
        response = await this.mcp(request);
      } else if (request.method === 'GET' && url.pathname === '/healthz') {
        response = Response.json({ status: 'ok' });
      } else if (request.method === 'GET' && url.pathname === '/readyz') {
        const ready = this.cfg.canSpawn();
        response = Response.json({ status: ready ? 'ready' : 'unavailable' }, { status: ready ? 200 : 503 });
      } else if (request.method === 'GET' && url.pathname === '/metrics') {
        response = new Response(
          this.cfg.metrics.render({
            sessions: this.registry.size,
            pool: this.registry.pooled,
            warm: this.registry.warm,
            maxSessions: this.cfg.maxSessions,
          }),
          { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } },
        );
      } else {
        throw new BridgeHttpError(404, JsonRpcCode.ServerError, 'Not Found');
      }
    } catch (err) {
      if (err instanceof BridgeHttpError) response = errorResponse(err, cors);
      else {
        this.cfg.logger.error('request failed', { error: err instanceof Error ? err.message : String(err) });
        response = errorResponse(new BridgeHttpError(500, JsonRpcCode.InternalError, 'Internal error'), cors);
      }
      this.cfg.metrics.countHttp(request.method, response.status);
      return response;
    }
    if (cors) for (const k in cors) response.headers.set(k, cors[k]!);
    this.cfg.metrics.countHttp(request.method, response.status);
    return response;
  }

  private async mcp(request: Request): Promise<Response> {
    switch (request.method) {
      case 'POST':
        return this.post(request);
      case 'GET':
        return this.get(request);
      case 'DELETE':
        return this.delete(request);
      case 'OPTIONS':
        return new Response(null, {
          status: 204,
          headers: {
            'access-control-allow-methods': ALLOW,
            'access-control-allow-headers': [
              ALLOWED_REQUEST_HEADERS,
              ...this.cfg.envFromHeaders.map(([h]) => h),
            ].join(', '),
            'access-control-max-age': '600',
          },
        });
      default:
        throw new BridgeHttpError(405, JsonRpcCode.ServerError, 'Method Not Allowed', { allow: ALLOW });
    }
  }

  private async post(request: Request): Promise<Response> {
    const accept = request.headers.get('accept') ?? '';
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
    if (!isJsonMediaType(request.headers.get('content-type'))) {
      throw new BridgeHttpError(
        415,
        JsonRpcCode.ServerError,
        'Unsupported Media Type: Content-Type must be application/json',
      );
    }
    const text = await readBody(request, this.cfg.maxBodyBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new BridgeHttpError(400, JsonRpcCode.ParseError, 'Parse error: body is not JSON');
    }
    const batch = Array.isArray(parsed);
    const values: unknown[] = batch ? (parsed as unknown[]) : [parsed];
    if (values.length === 0 || values.length > MAX_BATCH) {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidRequest,
        'Invalid Request: batch must hold 1 to 1000 messages',
      );
    }
    const items: IncomingMessage[] = [];
    let initialize: IncomingMessage | undefined;
    const ids = batch ? new Set<JsonRpcId>() : undefined;
    for (const v of values) {
      const c = classify(v);
      if (!c)
        throw new BridgeHttpError(
          400,
          JsonRpcCode.InvalidRequest,
          'Invalid Request: not a JSON-RPC 2.0 message',
        );
      // One message: forward the client's own text; in a batch, each element on its own line.
      const line = batch
        ? JSON.stringify(v)
        : text.includes('\n') || text.includes('\r')
          ? text.replace(/[\r\n]+/g, ' ')
          : text;
      const item = { c, line };
      if (c.kind === 'request') {
        if (c.method === 'initialize') initialize = item;
        if (ids) {
          if (ids.has(c.id))
            throw new BridgeHttpError(
              400,
              JsonRpcCode.InvalidRequest,
              'Invalid Request: duplicate id in batch',
            );
          ids.add(c.id);
        }
      }
      items.push(item);
    }
    const mode = this.cfg.jsonResponse ? (acceptsJson ? 'json' : 'sse') : acceptsSse ? 'sse' : 'json';
    if (initialize) {
      if (items.length > 1) {
        throw new BridgeHttpError(
          400,
          JsonRpcCode.InvalidRequest,
          'Invalid Request: initialize must be sent alone',
        );
      }
      const params = (initialize.c.msg.params ?? {}) as { protocolVersion?: unknown };
      const version =
        typeof params.protocolVersion === 'string' ? params.protocolVersion : DEFAULT_PROTOCOL_VERSION;
      const identity = this.cfg.identity ? await this.cfg.identity(request) : undefined;
      const session = this.registry.open(identity, this.envFor(request));
      try {
        return await session.post(items, { mode, batch, resumable: supportsPrimingEvents(version) });
      } catch (err) {
        void session.close('initialize failed');
        throw err;
      }
    }
    const session = await this.session(request);
    const version = this.protocolVersion(request) ?? session.protocolVersion ?? DEFAULT_PROTOCOL_VERSION;
    return session.post(items, { mode, batch, resumable: supportsPrimingEvents(version) });
  }

  private async get(request: Request): Promise<Response> {
    if (!(request.headers.get('accept') ?? '').includes('text/event-stream')) {
      throw new BridgeHttpError(
        406,
        JsonRpcCode.ServerError,
        'Not Acceptable: Accept must list text/event-stream',
      );
    }
    const session = await this.session(request);
    this.protocolVersion(request);
    return session.get(request.headers.get('last-event-id'));
  }

  private async delete(request: Request): Promise<Response> {
    const session = await this.session(request);
    this.protocolVersion(request);
    void session.close('deleted by client');
    return new Response(null, { status: 200 });
  }

  /** The session named by `Mcp-Session-Id`: 400 without one, 404 when unknown, ended or someone else's. */
  private async session(request: Request): Promise<Session> {
    const id = request.headers.get('mcp-session-id');
    if (!id)
      throw new BridgeHttpError(
        400,
        JsonRpcCode.ServerError,
        'Bad Request: Mcp-Session-Id header is required',
      );
    const session = this.registry.get(id);
    if (!session || session.closed) throw notFound();
    if (this.cfg.identity) {
      const identity = await this.cfg.identity(request);
      if (identity !== session.identity) throw notFound();
    }
    return session;
  }

  /** Validates `MCP-Protocol-Version` (400 when unsupported); returns it when present. */
  private protocolVersion(request: Request): string | undefined {
    const v = request.headers.get('mcp-protocol-version');
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

  private checkHost(request: Request): void {
    const allowed = this.cfg.allowedHosts;
    if (!allowed) return;
    const host = hostnameOf(request.headers.get('host') ?? new URL(request.url).host);
    const ok = allowed === 'loopback' ? isLoopbackHost(host) : allowed.includes(host);
    if (!ok) throw new BridgeHttpError(403, JsonRpcCode.ServerError, 'Forbidden: Host not allowed');
  }

  /** Origin allow-list (MCP transports: servers MUST validate Origin). Returns CORS headers for allowed origins. */
  private checkOrigin(request: Request): Record<string, string> | undefined {
    const origin = request.headers.get('origin');
    if (origin === null) return undefined;
    const list = this.cfg.allowedOrigins;
    let ok = list.includes('*') || list.includes(origin);
    if (!ok) {
      try {
        ok = new URL(origin).host === (request.headers.get('host') ?? new URL(request.url).host);
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

  private envFor(request: Request): Record<string, string> | undefined {
    let env: Record<string, string> | undefined;
    for (const [header, name] of this.cfg.envFromHeaders) {
      const value = request.headers.get(header);
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

/** Reads a request body as UTF-8, refusing (413) more than `max` bytes. */
export async function readBody(request: Request, max: number): Promise<string> {
  const tooLarge = () =>
    new BridgeHttpError(413, JsonRpcCode.ServerError, `Payload Too Large: body exceeds ${max} bytes`);
  const length = request.headers.get('content-length');
  if (length !== null && Number(length) > max) throw tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1)
    return Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength).toString('utf8');
  return Buffer.concat(chunks, size).toString('utf8');
}

/** The host name of a `Host` header value, without port or IPv6 brackets, lower-cased. */
export function hostnameOf(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  return h;
}

/** `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}
