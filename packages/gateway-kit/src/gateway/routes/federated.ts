import { randomUUID } from 'node:crypto';
import { childLogger, logEnabled } from '@mcp-gateway/internal/log';
import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error';
import { GatewayError, modernRefusal } from '../../errors.js';
import type { FederatedEndpointConfig } from '../../federation/config.js';
import { FederatedEndpoint, federatedCapabilities } from '../../federation/endpoint.js';
import {
  discoverResult,
  initializeResult,
  legacyReply,
  modernReply,
  negotiatedVersion,
  REMOVED_IN_MODERN,
} from '../../federation/eras.js';
import type { FederationHooks } from '../../federation/hooks.js';
import { federatedRoute, federatedScopes } from '../../federation/resource.js';
import { inputCapabilities } from '../../federation/elicitation-relay.js';
import { ListChanges } from '../../federation/listeners.js';
import { FederatedSessions, sessionNotFound, sessionRequired } from '../../federation/sessions.js';
import { FederatedUrlElicitation } from '../../federation/url-elicitation.js';
import { watchable } from '../../federation/watch.js';
import type { RequestInfo } from '../../http/node.js';
import type { PublicRequest } from '../../http/public-url.js';
import type { Identity } from '../../identity.js';
import { MisroutedSessions, sessionIdGenerator } from '../../instance-id.js';
import type { Logger } from '../../ops/logger.js';
import { requestStateKeyFor } from '../../services/request-state-key.js';
import { checkModernHeaders, requestEra } from '../../protocol-version.js';
import { federatedTrace, tracedAnswer } from '../../telemetry/federated-trace.js';
import type { McpRequestTrace, TracedMessage } from '../../telemetry/mcp-trace.js';
import type { OwnRoute, RouteContext } from './context.js';
import { admitFederated } from './federated-admission.js';
import { FederatedInputs, isResponse, legacyMeta } from './federated-input.js';
import { serveBatch, type BatchHost } from './federated-batch.js';
import { modernRpc, paramsOf, readMessage, rpc, type RpcMessage } from './federated-message.js';
import { FederatedListen } from './federated-listen.js';
import { FederatedSubscriptions } from './federated-subscriptions.js';
import { withHeaders } from './headers.js';
import { resourceDocument } from './metadata.js';

/** Who asked, and what serving a request needs besides the message. */
interface Served {
  identity: Identity;
  info: RequestInfo;
  log: Logger;
  /** The request's trace, when telemetry is on. */
  trace: McpRequestTrace | undefined;
}

/**
 * One federated endpoint over HTTP, both eras on one URL: admission (CORS
 * origin, a token whose audience is the endpoint, at least one member the
 * user may use), then 2026-07-28 requests answered statelessly and 2025
 * sessions (`initialize`, `Mcp-Session-Id`, `DELETE`) kept in
 * {@link FederatedSessions}; list changes reach a session's `GET` stream and
 * `subscriptions/listen` streams ({@link FederatedListen}).
 */
class FederatedHttp {
  readonly endpoint: FederatedEndpoint;
  private readonly sessions: FederatedSessions;
  /** Warns when a request names a session of another instance (`instanceId`). */
  private readonly misrouted: MisroutedSessions;
  private readonly listen: FederatedListen;
  private readonly resources: FederatedSubscriptions;
  /** Server→client requests relayed to 2025 sessions (a member asked for input). */
  private readonly inputs = new FederatedInputs();
  /** A member's URL elicitation (`-32042`) as a 2026-07-28 `input_required` step. */
  private readonly urlElicitation: FederatedUrlElicitation;
  private readonly instructions: string;

  constructor(
    private readonly ctx: RouteContext,
    config: FederatedEndpointConfig,
    hooks: FederationHooks | undefined,
  ) {
    const route = federatedRoute(ctx.config.issuer, config);
    this.urlElicitation = new FederatedUrlElicitation(
      requestStateKeyFor(ctx.requestStateSecret, route.localPath, 'federated-url-elicitation'),
    );
    this.endpoint = new FederatedEndpoint(route, {
      registry: ctx.registry,
      logger: ctx.logger,
      hooks,
      onToolCall: (service, tool, identity, args) => this.announce(service, tool, identity, args),
      metrics: ctx.metrics,
      telemetry: ctx.telemetry,
    });
    this.sessions = new FederatedSessions(
      {
        maxSessions: config.maxSessions,
        maxSessionsPerUser: config.maxSessionsPerUser,
        idleMs: config.sessionTimeout * 1000,
      },
      Date.now,
      sessionIdGenerator(ctx.config.instanceId, randomUUID),
      (id) => {
        this.endpoint.closeOwner(id);
        this.listen.sessionClosed(id);
        this.resources.sessionClosed(id);
        this.inputs.pending.closeSession(id);
      },
    );
    this.misrouted = new MisroutedSessions(
      ctx.config.instanceId,
      childLogger(ctx.logger, { endpoint: this.endpoint.route.localPath }),
    );
    const clock = ctx.clock;
    this.resources = new FederatedSubscriptions(
      this.endpoint,
      ctx.registry,
      config,
      ctx.logger,
      (id, msg) => this.listen.notifySession(id, msg),
      clock && (() => clock.now()),
    );
    this.listen = new FederatedListen(
      new ListChanges(config, {
        registry: ctx.registry,
        members: (identity) => this.endpoint.members(identity),
        timeoutMs: config.timeout * 1000,
        onChange: (user) => this.endpoint.catalogs.forgetUser(user),
        legacy: this.endpoint.legacyMembers,
        closeOwner: (owner) => this.endpoint.closeOwner(owner),
      }),
      this.resources,
    );
    const named =
      config.prefix === 'never'
        ? ''
        : ` (names prefixed "<service>${config.separator}"${config.prefix === 'conditional' ? ' where two services share one' : ''})`;
    this.instructions = `Tools, prompts and resources of the services ${config.services.join(', ')}${named}.`;
  }

  /** The capabilities declared: list changes when a member can tell of them. */
  get capabilities() {
    const members = this.endpoint.route.config.services.map((s) => this.ctx.registry.get(s));
    return federatedCapabilities(members.some((e) => e !== undefined && watchable(e)));
  }

  /** The capabilities declared to `identity`: also `completions` and `resources.subscribe` when a member of theirs has it. */
  private async capabilitiesFor(identity: Identity) {
    const [completions, subscribe] = await Promise.all([
      this.endpoint.offersCompletions(identity),
      this.resources.offered(identity),
    ]);
    const caps = federatedCapabilities(this.capabilities.tools.listChanged, subscribe);
    return completions ? { ...caps, completions: {} } : caps;
  }

  get scopes(): string[] {
    return federatedScopes(this.ctx.registry, this.endpoint.route.config);
  }

  /** The RFC 9728 document of the endpoint. */
  metadata(request: Request, pub: PublicRequest): Response {
    if (request.method === 'OPTIONS') return this.ctx.cors.preflight(request, pub.origin);
    const { resource, title: name } = this.endpoint.route;
    return Response.json(resourceDocument(this.ctx, { resource, scopes: this.scopes, name }), {
      headers: { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
    });
  }

  async serve(request: Request, pub: PublicRequest, info: RequestInfo, log: Logger): Promise<Response> {
    if (request.method === 'OPTIONS') return this.ctx.cors.preflight(request, pub.origin);
    const { telemetry } = this.ctx;
    // Telemetry off: this one check, nothing is made.
    if (!telemetry?.enabled) return this.admitted(request, pub, info, log, undefined);
    const trace = federatedTrace(telemetry, this.endpoint.route.localPath, request);
    return tracedAnswer(trace, await this.admitted(request, pub, info, log, trace), info);
  }

  /** Admission (`federated-admission.ts`), then the method. */
  private async admitted(
    request: Request,
    pub: PublicRequest,
    info: RequestInfo,
    log: Logger,
    trace: McpRequestTrace | undefined,
  ): Promise<Response> {
    const admission = await admitFederated(this.ctx, this.endpoint, request, pub);
    if ('refusal' in admission) return admission.refusal;
    const { identity, corsHeaders } = admission;
    const header = (name: string) => request.headers.get(name);
    try {
      const res = await this.serveMethod(request, header, { identity, info, log, trace });
      return withHeaders(res, corsHeaders);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      // Refused before a message was read (413, 415, …): a 2026-07-28 request says so in its headers.
      const era = requestEra(undefined, header('mcp-protocol-version'), header('mcp-session-id'));
      return withHeaders((era === 'modern' ? modernRefusal(err) : err).toResponse(null), corsHeaders);
    }
  }

  private async serveMethod(
    request: Request,
    header: (name: string) => string | null,
    served: Served,
  ): Promise<Response> {
    const { identity, info, trace } = served;
    if (request.method !== 'POST') trace?.admitted(identity, [], undefined);
    const sessionId = header('mcp-session-id');
    // Another instance's session is unknown here (404 below); the operator is told.
    this.misrouted.check(sessionId);
    if (request.method === 'DELETE') {
      if (!sessionId || !this.sessions.get(sessionId, identity.sub)) throw sessionNotFound();
      this.sessions.close(sessionId);
      return new Response(null, { status: 200 });
    }
    if (request.method === 'GET') {
      if (!sessionId || !this.sessions.get(sessionId, identity.sub)) throw sessionNotFound();
      return this.listen.sessionStream(sessionId, identity, header('accept'), info);
    }
    if (request.method !== 'POST') {
      return new Response(null, { status: 405, headers: { allow: 'GET, POST, DELETE' } });
    }
    const read = readMessage(request, info);
    const message = read instanceof Promise ? await read : read;
    if (Array.isArray(message)) {
      // A JSON-RPC batch (2025-03-26 sessions): each message on the path below, one span each.
      return serveBatch(this.batchHost(request, served), {
        values: message,
        sessionId,
        header,
        identity,
        info,
        trace,
      });
    }
    if (isResponse(message)) {
      // A 2025 client's answer to a relayed server→client request.
      trace?.admitted(identity, [], undefined);
      const session = sessionId ? this.sessions.get(sessionId, identity.sub) : undefined;
      if (!session) throw sessionNotFound();
      this.inputs.pending.answer(session.id, message);
      return new Response(null, { status: 202 });
    }
    trace?.admitted(identity, [message as TracedMessage], message);
    const era = requestEra(message, header('mcp-protocol-version'), sessionId);
    if (era === 'modern') return this.serveModern(message, header, served);
    return this.serveLegacy(message, sessionId, served, header('accept'));
  }

  /**
   * A 2026-07-28 request: envelope and mirrored headers checked, then answered without a
   * session. The one place the endpoint's own errors become 2026 answers: a refusal thrown on
   * the way (a `tools/call`'s `Mcp-Param-*` mismatch, a listen over the bounds) answers the
   * request's id with a 2026 code ({@link modernRefusal}), and so does each reply ({@link modernReply}).
   */
  private async serveModern(
    m: RpcMessage,
    header: (name: string) => string | null,
    served: Served,
  ): Promise<Response> {
    try {
      return await this.answerModern(m, header, served);
    } catch (err) {
      if (err instanceof GatewayError) return modernRefusal(err).toResponse(m.id ?? null);
      throw err;
    }
  }

  private async answerModern(
    m: RpcMessage,
    header: (name: string) => string | null,
    { identity, info, trace }: Served,
  ): Promise<Response> {
    const refusal = checkModernHeaders(m, header);
    if (refusal) return refusal.error.toResponse(refusal.id);
    const id = m.id ?? null;
    const method = m.method as string;
    if (method === 'server/discover') {
      const capabilities = await this.capabilitiesFor(identity);
      return rpc(id, { result: discoverResult(this.instructions, capabilities) });
    }
    if (m.id === undefined) return new Response(null, { status: 202 });
    if (REMOVED_IN_MODERN.has(method)) {
      const message = `Method not found: ${method} is not part of MCP 2026-07-28`;
      return modernRpc(id, { error: { code: JSONRPC_ERROR_CODES.MethodNotFound, message } });
    }
    const params = paramsOf(m);
    if (method === 'subscriptions/listen') {
      const { listChanged } = this.capabilities.tools;
      return this.listen.listen(id, params, identity, header('accept'), info, listChanged);
    }
    const { _meta } = params;
    const meta = typeof _meta === 'object' && _meta !== null ? (_meta as Record<string, unknown>) : undefined;
    // The retry of the endpoint's own URL elicitation step is served as the call first sent.
    const turn = { sub: identity.sub, method, params };
    const own = this.urlElicitation.read(turn);
    // `params` keeps its `_meta`: members get their own in its place (no copy of the params here).
    const req = { method, params: own.params, identity, meta, info, trace, header };
    const served = await this.endpoint.serve(req);
    const reply = modernReply(method, this.urlElicitation.answer(served, turn, own.declined));
    trace?.replied(reply);
    return modernRpc(id, reply);
  }

  /** A 2025 request: `initialize` opens a session; anything else needs the caller's own session. */
  private async serveLegacy(
    m: RpcMessage,
    sessionId: string | null,
    { identity, info, log, trace }: Served,
    accept: string | null,
  ): Promise<Response> {
    const id = m.id ?? null;
    const method = m.method as string;
    const params = paramsOf(m);
    if (method === 'initialize' && !sessionId) {
      let s;
      try {
        s = this.sessions.open(identity.sub, negotiatedVersion(params.protocolVersion));
        s.clientCapabilities = inputCapabilities(params.capabilities);
      } catch (err) {
        if (err instanceof GatewayError) return err.toResponse(id);
        throw err;
      }
      if (logEnabled(this.ctx.logger, 'debug'))
        log.debug('federated session opened', { endpoint: this.endpoint.route.localPath });
      return rpc(
        id,
        {
          result: initializeResult(
            s.protocolVersion,
            this.instructions,
            await this.capabilitiesFor(identity),
          ),
        },
        { 'mcp-session-id': s.id },
      );
    }
    if (!sessionId) throw sessionRequired();
    const session = this.sessions.get(sessionId, identity.sub);
    if (!session) throw sessionNotFound();
    // Notifications are not forwarded: members are asked statelessly, and a cancelled request ends with its HTTP request.
    if (m.id === undefined) return new Response(null, { status: 202 });
    if (method === 'logging/setLevel') return rpc(id, { result: {} });
    if (this.resources.handles(method)) {
      const open = () => this.sessions.get(session.id, identity.sub) !== undefined;
      return rpc(id, await this.resources.session(session.id, method, params, identity, open));
    }
    session.inFlight++;
    let relayed: Response | undefined;
    try {
      const progress = (params._meta as { progressToken?: unknown } | undefined)?.progressToken;
      const meta = legacyMeta(progress, session.clientCapabilities);
      const req = { method, params, identity, meta, info, owner: session.id, trace };
      const reply = await this.endpoint.serve(req);
      relayed = this.inputs.relay(
        {
          id,
          method,
          session: session.id,
          capabilities: session.clientCapabilities,
          accept,
          info,
          retry: (inputResponses, requestState) =>
            this.endpoint.serve({ ...req, params: { ...params, inputResponses, requestState } }),
          done: () => session.inFlight--,
          abandon: (state, error) => this.endpoint.legacyMembers.refuse(session.id, state, error),
        },
        reply,
      );
      if (relayed) return relayed;
      const out = legacyReply(reply);
      trace?.replied(out);
      return rpc(id, out);
    } finally {
      if (!relayed) session.inFlight--;
    }
  }

  /** What a batch needs: each element on the single-message path of a 2025 session, answered as JSON. */
  private batchHost(request: Request, served: Served): BatchHost {
    const { telemetry } = this.ctx;
    return {
      session: (id, user) => this.sessions.get(id, user),
      serveOne: (m, sessionId, trace) => this.serveLegacy(m, sessionId, { ...served, trace }, null),
      answer: (session, m) => void this.inputs.pending.answer(session, m),
      trace: () =>
        telemetry?.enabled ? federatedTrace(telemetry, this.endpoint.route.localPath, request) : undefined,
    };
  }

  /** Logs a routed tool call and sends it to the `tool_call` webhooks, as the service route does. */
  private announce(service: string, tool: string, identity: Identity, args: unknown): void {
    const { logger, webhooks } = this.ctx;
    const endpoint = this.endpoint.route.localPath;
    if (logEnabled(logger, 'info')) logger.info('tool call', { service, tool, user: identity.sub, endpoint });
    if (webhooks.wants('tool_call')) {
      webhooks.emit({
        type: 'tool_call',
        action: 'tool.called',
        data: { service, tool, user: identity.sub, client: identity.clientId, arguments: args, endpoint },
      });
    }
  }
}

/**
 * The routes of the config's federated endpoints: each endpoint's MCP URL and
 * its RFC 9728 document. None when `federated` is empty.
 */
export function federatedRoutes(ctx: RouteContext, hooks?: FederationHooks): OwnRoute[] {
  if (ctx.config.federated.length === 0) return [];
  const endpoints = ctx.config.federated.map((c) => new FederatedHttp(ctx, c, hooks));
  const byPath = new Map(endpoints.map((e) => [e.endpoint.route.localPath, e]));
  // A host-routed service answers `/mcp` (and its document) on its own host.
  const serviceHost = (pub: PublicRequest) => ctx.registry.list().some((e) => e.route.host === pub.host);
  const byMetadata = new Map(endpoints.map((e) => [new URL(e.endpoint.route.metadataUrl).pathname, e]));
  return [
    {
      kind: 'metadata',
      matches: (_path, pub) => byMetadata.has(pub.pathname) && !serviceHost(pub),
      serve: (request, pub) => Promise.resolve(byMetadata.get(pub.pathname)!.metadata(request, pub)),
    },
    {
      kind: 'federated',
      matches: (path, pub) => path !== undefined && byPath.has(path) && !serviceHost(pub),
      serve: (request, pub, log, path, info) => byPath.get(path!)!.serve(request, pub, info, log),
    },
  ];
}
