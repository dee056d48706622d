import { logEnabled } from '@mcp-gateway/internal/log';
import { AuthError } from '../../auth.js';
import { mayUse } from '../../config/subjects.js';
import { GatewayError, JsonRpcCode, jsonError, modernRefusal } from '../../errors.js';
import type { RequestInfo } from '../../http/node.js';
import { addressedUrl, type PublicRequest } from '../../http/public-url.js';
import type { Identity } from '../../identity.js';
import type { Logger } from '../../ops/logger.js';
import { checkModernHeaders, requestEra } from '../../protocol-version.js';
import { policyAdmission, policyForStream, withBody, type PolicyAdmission } from '../../policy/admission.js';
import { duplicateMemberName } from '../duplicate-member.js';
import type { ServiceEntry } from '../../services/registry.js';
import { McpRequestTrace } from '../../telemetry/mcp-trace.js';
import { tapReplies } from '../reply-tap.js';
import { mcpBodyNotJson, mcpBodyText } from '../request-body.js';
import { ToolObservation } from '../tool-observation.js';
import type { RouteContext } from './context.js';
import { withHeaders } from './headers.js';

interface RpcMessage {
  id?: string | number | null;
  method?: string;
  params?: { name?: unknown; arguments?: unknown };
}

/** The HTTP methods of a Streamable HTTP MCP endpoint. */
const MCP_METHODS: ReadonlySet<string> = new Set(['POST', 'GET', 'DELETE']);
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
 * Why a body cannot be judged as the service will read it, or `undefined`: not JSON (a lenient
 * server parser, e.g. one taking `NaN` or comments, could still run what the policy and the
 * tool-call log never saw), or an object naming a member twice (parsers disagree on which value
 * counts; RFC 7493 §2.3).
 */
function ambiguousBody(text: string, json: unknown): GatewayError | undefined {
  if (json === undefined) return mcpBodyNotJson();
  const repeated = duplicateMemberName(text);
  if (repeated === undefined) return undefined;
  return new GatewayError(
    400,
    JsonRpcCode.InvalidRequest,
    `Invalid Request: the member name ${JSON.stringify(repeated.slice(0, 64))} occurs twice in one object (JSON parsers disagree on which value counts)`,
  );
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
      /** The per-tool policy step: hidden tools to filter out of the answer, a batch's refusals to add. */
      policy: PolicyAdmission | undefined;
    };

/**
 * MCP requests to a service, top to bottom: CORS preflight; admission (CORS origin, the token's
 * audience and scope, the service's `users` list, the body cap, SEP-2243 headers for `http`
 * upstreams); the per-tool policy (`policy/admission.ts`: refused calls answered here, lists
 * filtered on the way back); tool-call logging and webhooks; then the backend, told who the caller is
 * ({@link Identity}) and what admission read; its answer gets the CORS headers.
 */
export class McpRoute {
  constructor(private readonly ctx: RouteContext) {}

  /** Serves one MCP request to `entry`; `info` carries the body when the node edge read it already. */
  async serve(
    entry: ServiceEntry,
    request: Request,
    info: RequestInfo,
    pub: PublicRequest,
    log: Logger,
  ): Promise<Response> {
    const { cors, telemetry } = this.ctx;
    if (request.method === 'OPTIONS') return cors.preflight(request, pub.origin);
    // Telemetry off: this one check, nothing is made (no trace, no tap, no body rewritten).
    const trace = telemetry?.enabled ? McpRequestTrace.begin(telemetry, entry.name, request) : undefined;
    const headers = request.headers;
    const a = await this.admit(
      entry,
      (name) => headers.get(name),
      request.method,
      () => mcpBodyText(request, info.body),
      pub,
      { log },
    );
    if ('refusal' in a) return trace ? trace.refused(a.refusal) : a.refusal;
    const { identity, corsHeaders, body, json, messages, tools, policy } = a;
    trace?.admitted(identity, messages, json);
    const observer = trace ? trace.watch(tools) : tools;
    const backend = this.ctx.registry.backend(entry);
    // A batch without the calls the policy refused is forwarded as a new body.
    const rewritten = policy?.body !== undefined;
    try {
      const res = await backend.handle(rewritten ? withBody(request, body!) : request, identity, {
        body,
        bytes: rewritten ? undefined : info.body,
        json,
        observer,
        info,
        trace,
        // The status and body of a late answer settle later: only when no policy or trace reads them on the way.
        lateAnswer: info.lateResponses === true && !policy && !trace,
      });
      // Backends that parse their answers anyway tell the observer; the others' bytes are read on the way.
      const observed = observer && !backend.observesResponses ? tapReplies(res, observer) : res;
      const out = policy ? await policy.respond(observed) : observed;
      return withHeaders(trace ? trace.answered(out) : out, corsHeaders);
    } catch (err) {
      const era = requestEra(json, headers.get('mcp-protocol-version'), headers.get('mcp-session-id'));
      const failed = this.backendFailure(entry, err, messages, era === 'modern', log);
      return withHeaders(trace ? trace.answered(failed) : failed, corsHeaders);
    }
  }

  /**
   * The checks every MCP request to a service passes, whichever way it came
   * in. Returns the refusal to send, or what the backend call needs.
   */
  private async admit(
    entry: ServiceEntry,
    header: (name: string) => string | null | undefined,
    method: string,
    /** The body's text ({@link mcpBodyText}: already read by the node edge, or read now). */
    body: () => string | Promise<string>,
    pub: PublicRequest,
    // An object with a getter: the request's child logger is made only when a line is logged.
    logs: { readonly log: Logger },
  ): Promise<Admission> {
    const caller = await this.admitCaller(entry, header, method, pub);
    if ('refusal' in caller) return caller;
    const { identity, corsHeaders } = caller;
    // Streamable HTTP has POST, GET and DELETE; any other method would reach an `http` upstream
    // with a body the policy, the tool-call log and the webhooks never read.
    if (!MCP_METHODS.has(method)) {
      return {
        refusal: new Response(null, { status: 405, headers: { ...corsHeaders, allow: 'GET, POST, DELETE' } }),
      };
    }
    let text: string | undefined;
    let messages: RpcMessage[] = [];
    let json: unknown;
    let policy: PolicyAdmission | undefined;
    if (method === 'POST') {
      try {
        text = await body();
      } catch (err) {
        // Over the cap: 413 (mcpBodyTooLarge).
        if (!(err instanceof GatewayError)) throw err;
        return { refusal: err.toResponse() };
      }
      ({ messages, json } = rpcMessages(text));
      // The policy, the tool-call log and webhooks judge the parsed body, and the bytes go on as sent:
      // they must read one way only.
      const unclear = ambiguousBody(text, json);
      if (unclear) return { refusal: withHeaders(unclear.toResponse(), corsHeaders) };
      // An `http` upstream gets a modern request only when its mirrored headers match the body (SEP-2243);
      // and a policy decides on a call only then (the header's name is the body's).
      if (entry.config.type === 'http' || this.ctx.policy?.has(entry.name)) {
        const refusal = checkModernHeaders(json, header);
        if (refusal) return { refusal: withHeaders(refusal.error.toResponse(refusal.id), corsHeaders) };
      }
      const modern = () =>
        requestEra(json, header('mcp-protocol-version') ?? null, header('mcp-session-id') ?? null) ===
        'modern';
      policy = policyAdmission(this.ctx.policy, entry.name, identity, messages, json, modern);
      if (policy?.answer) return { refusal: withHeaders(policy.answer, corsHeaders) };
      if (policy?.body !== undefined) ({ body: text, json } = policy);
      if (policy) messages = policy.messages as RpcMessage[];
      this.announceToolCalls(entry, messages, identity, logs);
    } else if (method === 'GET') {
      policy = policyForStream(this.ctx.policy, entry.name, identity);
    }
    const tools = ToolObservation.of(entry.name, messages, this.ctx.metrics);
    return { identity, corsHeaders, body: text, messages, json, tools, policy };
  }

  /**
   * CORS origin, the token (audience and scope; `Bearer`, or `DPoP` with a
   * proof for this method and public URL) and the service's `users` list.
   */
  private async admitCaller(
    entry: ServiceEntry,
    header: (name: string) => string | null | undefined,
    method: string,
    pub: PublicRequest,
  ): Promise<{ refusal: Response } | { identity: Identity; corsHeaders: Record<string, string> }> {
    const { cors, metrics } = this.ctx;
    const origin = header('origin') ?? null;
    const corsHeaders = cors.headers(origin, pub.origin);
    if (origin && !cors.allows(origin, pub.origin)) {
      return { refusal: jsonError(403, 'forbidden_origin', `origin ${origin} is not allowed`) };
    }
    const { route } = entry;
    let identity: Identity;
    try {
      const http = { method, url: addressedUrl(pub), dpop: header('dpop') };
      identity = await this.ctx.authenticate(header('authorization'), route.resource, route.scopes, http);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      metrics.authFailures.inc({ service: entry.name, reason: err.error ?? 'missing' });
      return { refusal: this.ctx.authFailure(err, route.metadataUrl, route.scopes, corsHeaders) };
    }
    if (!mayUse(entry.config.users, identity.sub)) {
      metrics.authFailures.inc({ service: entry.name, reason: 'user_not_allowed' });
      const message = `this account may not use service "${entry.name}"`;
      return { refusal: jsonError(403, 'access_denied', message, corsHeaders) };
    }
    return { identity, corsHeaders };
  }

  /** Logs each tool call of a request and sends it to the `tool_call` webhooks. */
  private announceToolCalls(
    entry: ServiceEntry,
    messages: RpcMessage[],
    identity: Identity,
    logs: { readonly log: Logger },
  ) {
    const { logger, webhooks } = this.ctx;
    for (const m of messages) {
      if (m.method !== 'tools/call' || typeof m.params?.name !== 'string') continue;
      if (logEnabled(logger, 'info')) {
        logs.log.info('tool call', { service: entry.name, tool: m.params.name, user: identity.sub });
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

  /**
   * The JSON-RPC error answer for a backend that threw; for a 2026-07-28 request (`modern`) without
   * the legacy codes that revision's implementations should not use ({@link modernRefusal}).
   */
  private backendFailure(
    entry: ServiceEntry,
    err: unknown,
    messages: RpcMessage[],
    modern: boolean,
    log: Logger,
  ): Response {
    const id = messages.length === 1 ? (messages[0]!.id ?? null) : null;
    this.ctx.metrics.backendErrors.inc({ service: entry.name });
    let failed: GatewayError;
    if (err instanceof GatewayError) {
      log.warn('backend error', { service: entry.name, status: err.status, err: err.message });
      failed = err;
    } else {
      log.error('backend failed', { service: entry.name, err: (err as Error).message });
      failed = new GatewayError(502, JsonRpcCode.BackendUnavailable, `service "${entry.name}" failed`);
    }
    return (modern ? modernRefusal(failed) : failed).toResponse(id);
  }
}
