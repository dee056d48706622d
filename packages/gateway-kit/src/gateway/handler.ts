import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import {
  AuthError,
  bearerFromHeader,
  bearerToken,
  challenge,
  type GatewayAuth,
  type ResourceDescriptor,
} from '../auth.js';
import type { GatewayConfig } from '../config/schema.js';
import { listProblems, listsSubject, mayUse, otherSubjects } from '../config/subjects.js';
import { accountResource, adminResource, ADMIN_SCOPE } from './resources.js';
import { GatewayError, JsonRpcCode, jsonError } from '../errors.js';
import { Cors } from '../http/cors.js';
import { connectionInfo, connectionInfoAlias, writeResponse, type NodeFastPath } from '../http/node.js';
import { HostPolicy, misdirected } from '../http/allowed-hosts.js';
import { BadRequestError, decodePathSegment } from '../http/path.js';
import { publicAddress, publicRequest, type PublicRequest } from '../http/public-url.js';
import type { Identity } from '../identity.js';
import type { Logger } from '../ops/logger.js';
import { metricsEndpoint } from '../ops/metrics-endpoint.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import { openApiDocument } from '../ops/openapi.js';
import type { WebhookDispatcher } from '../ops/webhooks.js';
import type { ServiceBackend } from '../services/backend.js';
import { checkModernHeaders } from '../protocol-version.js';
import { ToolObservation } from './tool-observation.js';
import { ServiceRegistryError, type ServiceEntry, type ServiceRegistry } from '../services/registry.js';

/** Largest MCP request body the gateway reads (413 above). */
export const MAX_MCP_BODY_BYTES = 4 * 1024 * 1024;
/** Largest admin API body. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** Request headers the gateway owns (with `x-mcp-gateway-*`): a client can never set them for a backend. */
const OWNED_HEADERS = new Set([
  'authorization',
  'cookie',
  'origin',
  'x-user-id',
  'x-user-name',
  'x-client-id',
  'x-scopes',
]);
/** True for a (lower-case) header name the gateway owns. */
const isOwnedHeader = (name: string) => OWNED_HEADERS.has(name) || name.startsWith('x-mcp-gateway-');

export interface GatewayHandlerDeps {
  config: GatewayConfig;
  auth: GatewayAuth;
  registry: ServiceRegistry;
  logger: Logger;
  metrics: GatewayMetrics;
  webhooks: WebhookDispatcher;
  /** True when the gateway's own store is reachable. */
  storeReady: () => Promise<boolean>;
  /** Extra pages mounted on the gateway (e.g. the connected-apps page): path → handler. */
  pages?: Record<string, (request: Request, log: Logger) => Promise<Response>>;
  version: string;
  /** Level of the one line logged per request (default `info`; `debug` keeps a terminal readable). */
  accessLogLevel?: 'info' | 'debug';
}

/**
 * Every resource the authorization server must know: each service, the admin
 * API and the account page. A service with a `users` list is not advertised
 * (its scopes stay out of the authorization server's `scopes_supported`).
 */
export function resourcesOf(registry: ServiceRegistry, issuer: string): ResourceDescriptor[] {
  return [
    ...registry.list().map((e) => ({
      resource: e.route.resource,
      scopes: e.route.scopes,
      name: e.route.title,
      ...(e.config.users ? { advertise: false } : {}),
    })),
    adminResource(issuer),
    accountResource(issuer),
  ];
}

class BodyTooLarge extends Error {}

async function readBody(request: Request, max: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) throw new BodyTooLarge();
  if (!request.body) return '';
  // A declared length within the cap (the node adapter has usually buffered it already): read at once.
  if (declared > 0 && !request.headers.has('transfer-encoding')) {
    const text = await request.text();
    if (Buffer.byteLength(text) > max) throw new BodyTooLarge();
    return text;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Per-request state: start time, request id, and a logger bound to the id,
 * made on first use (most requests log nothing below the access line). A
 * class, not an object literal with a getter: a per-request getter closure
 * keeps the request's objects alive through young-generation GCs.
 */
class RequestContext {
  readonly started = performance.now();
  private child: Logger | undefined;
  constructor(
    readonly reqId: string,
    private readonly logger: Logger,
  ) {}
  get log(): Logger {
    return (this.child ??= this.logger.child({ reqId: this.reqId }));
  }
}

/** The outcome of the checks in front of a service: a refusal, or what the backend call needs. */
type Admission =
  | { refusal: Response }
  | {
      identity: Identity;
      corsHeaders: Record<string, string>;
      body: string | undefined;
      messages: RpcMessage[];
      /** `JSON.parse` of the body, when it is JSON. */
      json: unknown;
      /** Tool calls and lists to watch for in the backend's answer (metrics). */
      tools: ToolObservation | undefined;
    };

/**
 * The gateway's fetch handler, with the node:http fast path that
 * {@link createNodeServer} takes for MCP requests to stdio services.
 */
export type GatewayHandler = ((request: Request) => Promise<Response>) & { nodeFastPath: NodeFastPath };

interface RpcMessage {
  id?: string | number | null;
  method?: string;
  params?: { name?: unknown; arguments?: unknown };
}

/** The JSON-RPC messages of a body, and its parse (`undefined` when it is not JSON). */
function rpcMessages(body: string): { messages: RpcMessage[]; json: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(body) as unknown;
  } catch {
    return { messages: [], json: undefined };
  }
  const messages: RpcMessage[] = [];
  for (const m of Array.isArray(json) ? (json as unknown[]) : [json]) {
    if (typeof m === 'object' && m !== null) messages.push(m);
  }
  return { messages, json };
}

/**
 * Adds headers to a response. Headers of responses we built are mutable and
 * set in place; only an immutable one (from `fetch`) is re-wrapped, which
 * costs far more (a new body stream) and so stays off the hot path.
 */
const withHeaders = (res: Response, headers: Record<string, string>): Response => {
  const entries = Object.entries(headers);
  if (entries.length === 0) return res;
  try {
    for (const [k, v] of entries) res.headers.set(k, v);
    return res;
  } catch {
    const out = new Response(res.body, res);
    for (const [k, v] of entries) out.headers.set(k, v);
    return out;
  }
};

/**
 * The gateway's request handler: operations endpoints, the admin API,
 * per-service protected-resource metadata, the MCP services (each behind its
 * own token check), and everything else to the authorization server.
 */
export function createGatewayHandler(deps: GatewayHandlerDeps): GatewayHandler {
  const { config, auth, registry, logger, metrics, webhooks } = deps;
  const accessLogLevel = deps.accessLogLevel ?? 'info';
  const issuer = new URL(config.issuer);
  const issuerBase = config.issuer.replace(/\/+$/, '');
  const cors = new Cors(config.cors.origins);
  const admin = adminResource(config.issuer);
  const issuerPath = issuer.pathname.replace(/\/+$/, '');
  // With a listener of its own (`metrics.listen`), /metrics is not served here.
  const metricsPage = config.metrics.listen ? undefined : metricsEndpoint(metrics, config.metrics.token);
  const hosts = new HostPolicy(
    config.issuer,
    [...config.allowedHosts, ...config.protectedResources.map((r) => new URL(r.resource).host)],
    // Host-routed services, including those added at runtime.
    () => registry.list().flatMap((e) => (e.route.host ? [e.route.host] : [])),
  );

  const local = (pub: PublicRequest) =>
    pub.pathname.startsWith(issuerPath) ? pub.pathname.slice(issuerPath.length) || '/' : undefined;

  async function authenticate(
    authorization: string | null | undefined,
    resource: string,
    scopes: string[],
  ): Promise<Identity> {
    const token = bearerFromHeader(authorization);
    if (!token) throw new AuthError(401, undefined, 'an access token is required');
    return auth.verify(token, { resource, scopes });
  }

  function authFailure(
    err: AuthError,
    metadataUrl: string,
    scopes: string[],
    extra: Record<string, string> = {},
  ) {
    return Response.json(
      { error: err.error ?? 'unauthorized', error_description: err.description },
      {
        status: err.status,
        headers: {
          'www-authenticate': challenge(metadataUrl, scopes, err),
          'cache-control': 'no-store',
          ...extra,
        },
      },
    );
  }

  function metadataDocument(e: ServiceEntry) {
    return {
      resource: e.route.resource,
      authorization_servers: [issuerBase],
      scopes_supported: e.route.scopes,
      bearer_methods_supported: ['header'],
      resource_name: e.route.title,
    };
  }

  /**
   * The checks every MCP request to a service passes, whichever way it came
   * in: CORS origin, the token (audience and scope), the service's user
   * allow-list, the body cap; then tool calls are counted, logged and sent to
   * webhooks. Returns the refusal to send, or what the backend call needs.
   */
  async function admit(
    entry: ServiceEntry,
    header: (name: string) => string | null | undefined,
    method: string,
    body: { buffered: Buffer | undefined; read?: () => Promise<string> },
    pub: PublicRequest,
    ctx: { readonly log: Logger },
  ): Promise<Admission> {
    const origin = header('origin') ?? null;
    const corsHeaders = cors.headers(origin, pub.origin);
    if (origin && !cors.allows(origin, pub.origin)) {
      return { refusal: jsonError(403, 'forbidden_origin', `origin ${origin} is not allowed`) };
    }
    const { route } = entry;
    let identity: Identity;
    try {
      identity = await authenticate(header('authorization'), route.resource, route.scopes);
    } catch (err) {
      if (err instanceof AuthError) {
        metrics.authFailures.inc({ service: entry.name, reason: err.error ?? 'missing' });
        return { refusal: authFailure(err, route.metadataUrl, route.scopes, corsHeaders) };
      }
      throw err;
    }
    if (!mayUse(entry.config.users, identity.sub)) {
      metrics.authFailures.inc({ service: entry.name, reason: 'user_not_allowed' });
      return {
        refusal: jsonError(
          403,
          'access_denied',
          `this account may not use service "${entry.name}"`,
          corsHeaders,
        ),
      };
    }
    let text: string | undefined;
    let messages: RpcMessage[] = [];
    let json: unknown;
    if (method === 'POST') {
      try {
        const { buffered } = body;
        if (buffered && buffered.byteLength > MAX_MCP_BODY_BYTES) throw new BodyTooLarge();
        text = buffered ? buffered.toString('utf8') : ((await body.read?.()) ?? '');
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          return {
            refusal: new GatewayError(
              413,
              JsonRpcCode.InvalidRequest,
              `request body over ${MAX_MCP_BODY_BYTES} bytes`,
            ).toResponse(),
          };
        }
        throw err;
      }
      ({ messages, json } = rpcMessages(text));
      // An `http` upstream gets a modern request only when its mirrored headers match the body (SEP-2243).
      if (entry.config.type === 'http') {
        const refusal = checkModernHeaders(json, header);
        if (refusal) return { refusal: withHeaders(refusal.error.toResponse(refusal.id), corsHeaders) };
      }
      for (const m of messages) {
        if (m.method !== 'tools/call' || typeof m.params?.name !== 'string') continue;
        if (logger.isLevelEnabled('info')) {
          ctx.log.info({ service: entry.name, tool: m.params.name, user: identity.sub }, 'tool call');
        }
        if (webhooks.wants('tool_call')) {
          webhooks.emit({
            type: 'tool_call',
            action: 'tool.called',
            data: {
              service: entry.name,
              tool: m.params.name,
              user: identity.sub,
              client: identity.clientId,
              arguments: m.params.arguments,
            },
          });
        }
      }
    }
    const tools = ToolObservation.of(entry.name, messages, metrics);
    return { identity, corsHeaders, body: text, messages, json, tools };
  }

  /** The JSON-RPC error answer for a backend that threw. */
  function backendFailure(entry: ServiceEntry, err: unknown, messages: RpcMessage[], log: Logger): Response {
    const id = messages.length === 1 ? (messages[0]!.id ?? null) : null;
    metrics.backendErrors.inc({ service: entry.name });
    if (err instanceof GatewayError) {
      log.warn({ service: entry.name, status: err.status, err: err.message }, 'backend error');
      return err.toResponse(id);
    }
    log.error({ service: entry.name, err: (err as Error).message }, 'backend failed');
    return new GatewayError(502, JsonRpcCode.BackendUnavailable, `service "${entry.name}" failed`).toResponse(
      id,
    );
  }

  async function serveService(entry: ServiceEntry, request: Request, pub: PublicRequest, log: Logger) {
    if (request.method === 'OPTIONS') return cors.preflight(request, pub.origin);
    // The node adapter usually holds the body already: read it from there and leave the request unconsumed.
    const a = await admit(
      entry,
      (name) => request.headers.get(name),
      request.method,
      { buffered: connectionInfo(request)?.body, read: () => readBody(request, MAX_MCP_BODY_BYTES) },
      pub,
      { log },
    );
    if ('refusal' in a) return a.refusal;
    const { identity, corsHeaders, body, messages, tools } = a;
    // The backend answers on the same path; pass the request itself when its body is unread
    // (headers the gateway owns removed in place), else a copy carrying the body read above.
    let backendRequest: Request;
    const owned: string[] = [];
    request.headers.forEach((_v, k) => {
      if (isOwnedHeader(k)) owned.push(k);
    });
    if (!request.bodyUsed) {
      for (const k of owned) request.headers.delete(k);
      backendRequest = request;
    } else {
      const headers = new Headers(request.headers);
      for (const k of owned) headers.delete(k);
      const init: RequestInit = { method: request.method, headers };
      if (body !== undefined) init.body = body;
      backendRequest = new Request(request.url, init);
      // Keep the disconnect signal reachable for the reverse proxy.
      const info = connectionInfo(request);
      if (info) connectionInfoAlias(backendRequest, info);
    }
    try {
      const res = await registry.backend(entry).handle(backendRequest, identity, body);
      return withHeaders(tools ? tools.tapResponse(res) : res, corsHeaders);
    } catch (err) {
      return withHeaders(backendFailure(entry, err, messages, log), corsHeaders);
    }
  }

  /**
   * The node:http fast path of {@link serveService}, for backends with
   * `handleNode` (stdio): the same checks through {@link admit}, then the
   * backend writes straight to `res`.
   */
  async function serveServiceNode(
    entry: ServiceEntry,
    backend: ServiceBackend & Required<Pick<ServiceBackend, 'handleNode'>>,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer | undefined,
    header: (name: string) => string | undefined,
    pub: PublicRequest,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const t = begin(header('x-request-id'));
    let status: number;
    try {
      const a = await admit(entry, header, method, { buffered: body }, pub, t);
      if ('refusal' in a) {
        status = a.refusal.status;
        await writeResponse(res, withHeaders(a.refusal, { 'x-request-id': t.reqId }));
      } else {
        const hide: string[] = [];
        for (const k in req.headers) if (isOwnedHeader(k)) hide.push(k);
        const responseHeaders = { ...a.corsHeaders, 'x-request-id': t.reqId };
        try {
          ({ status } = await backend.handleNode(req, res, a.identity, {
            body,
            json: a.json,
            hide,
            responseHeaders,
            observer: a.tools,
          }));
        } catch (err) {
          const response = backendFailure(entry, err, a.messages, t.log);
          status = response.status;
          if (res.headersSent) res.destroy();
          else await writeResponse(res, withHeaders(response, responseHeaders));
        }
      }
    } catch (err) {
      const response = failure(err, t.log);
      status = response.status;
      if (res.headersSent) res.destroy();
      else await writeResponse(res, withHeaders(response, { 'x-request-id': t.reqId }));
    }
    finish(t, `service:${entry.name}`, status, method, pub);
  }

  async function readyz(): Promise<Response> {
    const checks: Record<string, boolean> = {};
    const [authOk, storeOk] = await Promise.all([
      auth.ready().catch(() => false),
      deps.storeReady().catch(() => false),
    ]);
    checks.store = authOk && storeOk;
    await Promise.all(
      registry.list().map(async (e) => {
        checks[`service:${e.name}`] = await registry
          .backend(e)
          .ready()
          .catch(() => false);
      }),
    );
    const ok = Object.values(checks).every(Boolean);
    return Response.json(
      { status: ok ? 'ready' : 'not_ready', checks },
      { status: ok ? 200 : 503, headers: { 'cache-control': 'no-store' } },
    );
  }

  /**
   * Who is asking, for the lists that hide restricted services: no token is
   * an anonymous caller (`identity` undefined, who sees only services without
   * a `users` list); a token valid for any service or the admin API names the
   * user; any other token is refused with 401.
   */
  async function caller(request: Request): Promise<{ identity?: Identity } | { refusal: Response }> {
    let token: string | undefined;
    try {
      token = bearerToken(request);
    } catch {
      token = undefined;
    }
    if (!token) return {};
    for (const r of [
      ...registry.list().map((e) => e.route),
      { resource: admin.resource, scopes: [] as string[] },
    ]) {
      try {
        return { identity: await auth.verify(token, { resource: r.resource, scopes: [] }) };
      } catch {
        // not for this resource
      }
    }
    return { refusal: jsonError(401, 'invalid_token', 'the access token is not valid for this gateway') };
  }

  /** The services a caller may use (see {@link caller}). */
  const visibleTo = (identity: Identity | undefined) =>
    registry.list().filter((e) => mayUse(e.config.users, identity?.sub));

  async function servers(request: Request): Promise<Response> {
    const who = await caller(request);
    if ('refusal' in who) return who.refusal;
    const list = visibleTo(who.identity).map((e) => ({
      name: e.name,
      title: e.route.title,
      type: e.config.type,
      url: e.route.resource,
      resource_metadata: e.route.metadataUrl,
      scopes: e.route.scopes,
    }));
    return Response.json({ servers: list }, { headers: { 'cache-control': 'no-store' } });
  }

  async function openApi(request: Request): Promise<Response> {
    const who = await caller(request);
    if ('refusal' in who) return who.refusal;
    const options = {
      metrics: !!metricsPage,
      localLogin: config.idp.type === 'local',
      registration: config.authorization.dynamicRegistration,
    };
    return Response.json(openApiDocument(config.issuer, visibleTo(who.identity), deps.version, options), {
      headers: { 'cache-control': 'no-store' },
    });
  }

  /**
   * What the admin API refuses before storing a runtime service: a `stdio`
   * service unless `admin.allowStdioServices` (it runs a command on this
   * host), and `users` entries that can never match a signed-in user.
   */
  function runtimeServiceRefusal(input: unknown): Response | undefined {
    const service = (typeof input === 'object' && input !== null ? input : {}) as {
      type?: unknown;
      users?: unknown;
    };
    if (service.type === 'stdio' && !config.admin.allowStdioServices) {
      return Response.json(
        {
          error: 'stdio_services_disabled',
          error_description:
            'a stdio service runs a command on the gateway host; the admin API may add one only when the config sets admin.allowStdioServices: true',
          setting: 'admin.allowStdioServices',
        },
        { status: 403, headers: { 'cache-control': 'no-store' } },
      );
    }
    if (Array.isArray(service.users)) {
      const problems = listProblems(
        'users',
        service.users.filter((u): u is string => typeof u === 'string'),
        config.idp,
        otherSubjects(config),
      );
      if (problems.length) return jsonError(400, 'invalid_service', problems.join('; '));
    }
    return undefined;
  }

  async function adminApi(request: Request, path: string, log: Logger): Promise<Response> {
    let identity: Identity;
    const meta = `${issuer.origin}/.well-known/oauth-protected-resource${new URL(admin.resource).pathname}`;
    try {
      identity = await authenticate(request.headers.get('authorization'), admin.resource, [ADMIN_SCOPE]);
    } catch (err) {
      if (err instanceof AuthError) return authFailure(err, meta, [ADMIN_SCOPE]);
      throw err;
    }
    if (!listsSubject(config.admins, identity.sub)) {
      return jsonError(403, 'access_denied', 'this account is not a gateway admin');
    }
    await registry.refresh();
    const m = /^\/admin\/services(?:\/([^/]+))?$/.exec(path);
    if (!m) return jsonError(404, 'not_found', 'no such admin endpoint');
    const name = m[1] ? decodePathSegment(m[1]) : undefined;
    try {
      if (!name && request.method === 'GET') {
        return Response.json({ services: registry.list().map((e) => describeService(e)) });
      }
      if (name && request.method === 'GET') {
        const e = registry.get(name);
        return e ? Response.json(describeService(e)) : jsonError(404, 'not_found', `no service "${name}"`);
      }
      if (name && request.method === 'PUT') {
        let input: unknown;
        try {
          input = JSON.parse(await readBody(request, MAX_ADMIN_BODY_BYTES));
        } catch (err) {
          if (err instanceof BodyTooLarge) return jsonError(413, 'invalid_request', 'body too large');
          return jsonError(400, 'invalid_request', 'body is not JSON');
        }
        const refusal = runtimeServiceRefusal(input);
        if (refusal) return refusal;
        const e = await registry.put(name, input);
        await auth.setResources?.(resourcesOf(registry, config.issuer));
        log.info({ service: name, admin: identity.sub }, 'service added');
        webhooks.emit({ type: 'service', action: 'service.put', data: { service: name, by: identity.sub } });
        return Response.json(describeService(e), { status: 201 });
      }
      if (name && request.method === 'DELETE') {
        await registry.remove(name);
        await auth.setResources?.(resourcesOf(registry, config.issuer));
        log.info({ service: name, admin: identity.sub }, 'service removed');
        webhooks.emit({
          type: 'service',
          action: 'service.deleted',
          data: { service: name, by: identity.sub },
        });
        return new Response(null, { status: 204 });
      }
      return jsonError(405, 'method_not_allowed', `${request.method} is not allowed here`);
    } catch (err) {
      if (err instanceof ServiceRegistryError) return jsonError(err.status, err.code, err.message);
      throw err;
    }
  }

  async function route(request: Request, pub: PublicRequest, log: Logger): Promise<[string, Response]> {
    // Everything before the service match below is what reserved() lists for the node fast path: keep them in step.
    const path = local(pub);
    if (path === '/healthz') return ['healthz', Response.json({ status: 'ok' })];
    if (path === '/readyz') return ['readyz', await readyz()];
    if (path === '/metrics' && metricsPage) return ['metrics', await metricsPage(request)];
    if (path === '/openapi.json') return ['openapi', await openApi(request)];
    if (path === '/servers' && request.method === 'GET') return ['servers', await servers(request)];
    if (path?.startsWith('/admin/')) return ['admin', await adminApi(request, path, log)];
    const page = path !== undefined ? deps.pages?.[path] : undefined;
    if (page) return ['page', await page(request, log)];
    if (pub.pathname.startsWith('/.well-known/oauth-protected-resource/')) {
      const e = registry.matchMetadata(pub);
      if (e) {
        if (request.method === 'OPTIONS') return ['metadata', cors.preflight(request, pub.origin)];
        return [
          'metadata',
          Response.json(metadataDocument(e), {
            headers: { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
          }),
        ];
      }
      if (pub.pathname === `/.well-known/oauth-protected-resource${new URL(admin.resource).pathname}`) {
        return [
          'metadata',
          Response.json({
            resource: admin.resource,
            authorization_servers: [issuerBase],
            scopes_supported: admin.scopes,
            bearer_methods_supported: ['header'],
            resource_name: admin.name,
          }),
        ];
      }
    }
    const entry = registry.match(pub);
    if (entry) return [`service:${entry.name}`, await serveService(entry, request, pub, log)];
    return ['auth', await auth.fetch(request)];
  }

  /** Paths the gateway answers itself before any service route (see {@link route}). */
  function reserved(pub: PublicRequest, method: string): boolean {
    const path = local(pub);
    return (
      path === '/healthz' ||
      path === '/readyz' ||
      path === '/metrics' ||
      path === '/openapi.json' ||
      (path === '/servers' && method === 'GET') ||
      !!path?.startsWith('/admin/') ||
      (path !== undefined && !!deps.pages?.[path]) ||
      pub.pathname.startsWith('/.well-known/oauth-protected-resource/')
    );
  }

  /**
   * Per-request bookkeeping: start time, request id (the client's when
   * well-formed) and a logger carrying it, made on first use (most requests
   * log nothing below the access line, which needs no child logger).
   */
  function begin(given: string | null | undefined): RequestContext {
    return new RequestContext(given && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID(), logger);
  }

  /** The answer to an error no route handled. */
  function failure(err: unknown, log: Logger): Response {
    // A malformed request, wherever it was noticed (URIError: a decode that bypassed decodePathSegment).
    if (err instanceof BadRequestError || err instanceof URIError)
      return jsonError(
        400,
        'invalid_request',
        err instanceof BadRequestError ? err.message : 'malformed request',
      );
    if (err instanceof AuthError)
      return jsonError(err.status, err.error ?? 'invalid_request', err.description);
    if (err instanceof GatewayError) return err.toResponse();
    log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'request failed');
    return jsonError(500, 'server_error', 'internal error');
  }

  /** Metrics and the access log line of a finished request. */
  function finish(t: RequestContext, kind: string, status: number, method: string, pub: PublicRequest): void {
    const seconds = (performance.now() - t.started) / 1000;
    const routeLabel = kind.startsWith('service:') ? 'service' : kind;
    metrics.countRequest(routeLabel, status);
    metrics.observeDuration(routeLabel, seconds);
    if (!logger.isLevelEnabled(accessLogLevel)) return;
    logger[accessLogLevel](
      {
        reqId: t.reqId,
        method,
        path: pub.pathname,
        status,
        ms: Math.round(seconds * 1000),
        route: kind,
        ip: pub.clientIp,
      },
      'request',
    );
  }

  const handle = async function handle(request: Request): Promise<Response> {
    const t = begin(request.headers.get('x-request-id'));
    const pub = publicRequest(request, config.trustProxy, issuer);
    let kind = 'unknown';
    let response: Response;
    try {
      if (!hosts.allows(pub.host) && !HostPolicy.exempt(local(pub)))
        [kind, response] = ['host', misdirected()];
      else [kind, response] = await route(request, pub, t.log);
    } catch (err) {
      response = failure(err, t.log);
    }
    response = withHeaders(response, { 'x-request-id': t.reqId });
    finish(t, kind, response.status, request.method, pub);
    return response;
  };

  const nodeFastPath: NodeFastPath = (req, res, body) => {
    const method = req.method;
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') return undefined;
    // A body the adapter could not buffer (chunked, or over the cap) takes the streaming path.
    if (method === 'POST' && !body) return undefined;
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    let pub: PublicRequest;
    try {
      pub = publicAddress(
        { url: req.url ?? '/', header, remoteAddress: req.socket.remoteAddress ?? '' },
        config.trustProxy,
        issuer,
      );
    } catch {
      return undefined; // a request line URL parsing refuses: the fetch path answers it
    }
    if (reserved(pub, method) || !hosts.allows(pub.host)) return undefined;
    const entry = registry.match(pub);
    if (!entry) return undefined;
    const backend = registry.backend(entry);
    if (!backend.handleNode) return undefined;
    return serveServiceNode(
      entry,
      backend as ServiceBackend & Required<Pick<ServiceBackend, 'handleNode'>>,
      req,
      res,
      body,
      header,
      pub,
    );
  };

  return Object.assign(handle, { nodeFastPath });
}

/** A service as the admin API shows it: upstream credentials are never returned. */
export function describeService(e: ServiceEntry) {
  const config = { ...e.config } as Record<string, unknown>;
  if ('credentials' in config && config.credentials)
    config.credentials = { type: (config.credentials as { type: string }).type, redacted: true };
  if ('env' in config && config.env)
    config.env = Object.fromEntries(Object.keys(config.env).map((k) => [k, '[redacted]']));
  return { name: e.name, origin: e.origin, url: e.route.resource, scopes: e.route.scopes, config };
}
