/**
 * The MCP methods of a federated endpoint, era-independent: lists merged over
 * the members the caller may use, calls routed to their owner under the
 * member's own name. The HTTP route (`gateway/routes/federated.ts`) frames
 * them for 2025 sessions and 2026-07-28 requests.
 */
import { paramHeaderMismatch } from '@mcp-gateway/internal/mcp-param-headers';
import { mayUse } from '../config/subjects.js';
import { GatewayError, JsonRpcCode } from '../errors.js';
import type { RequestInfo } from '../http/node.js';
import type { Identity } from '../identity.js';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { ServiceRegistry } from '../services/registry.js';
import { MemberTrace } from '../telemetry/federated-trace.js';
import type { McpRequestTrace } from '../telemetry/mcp-trace.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { Catalogs, type Ask, type ListKind } from './catalog.js';
import { complete, MemberCompletions } from './completion.js';
import type { FederatedTool, FederationHooks } from './hooks.js';
import { LegacyMemberSessions, refusesModern, userOwner } from './legacy-member.js';
import { memberRequest, type MemberReply, type MemberRequestOptions, type RpcError } from './member.js';
import { ownerByPrefix, templateMatcher, type Owner } from './names.js';
import { MemberParamHeaders } from './param-headers.js';
import type { FederatedRoute } from './resource.js';
import { toolAnnotations } from './tool-annotations.js';

/** JSON-RPC codes of the endpoint's own refusals. */
const Code = {
  MethodNotFound: -32601,
  InvalidParams: -32602,
  /** The 2025 code (2026-07-28 callers get -32602 instead: `eras.ts`). */
  ResourceNotFound: -32002,
  /** A member's refusal of a call whose `Mcp-Param-*` headers do not match its tool (SEP-2243). */
  HeaderMismatch: -32020,
} as const;

/**
 * The capabilities a federated endpoint declares: `listChanged` when at least
 * one member can tell of changes (the fixed-list `fetch` service cannot),
 * `resources.subscribe` when a member of the caller offers subscriptions.
 */
export function federatedCapabilities(listChanged: boolean, subscribe = false) {
  return {
    tools: { listChanged },
    prompts: { listChanged },
    resources: { listChanged, subscribe },
  };
}

/** One request to the endpoint, whichever era framed it. */
export interface FederatedRequest {
  method: string;
  /** The caller's params; any `_meta` in them never reaches a member (each gets its own, from `meta`). */
  params: Record<string, unknown>;
  identity: Identity;
  /** The caller's `_meta` (2026 envelope keys, progress token), passed on to members. */
  meta?: Record<string, unknown> | undefined;
  /** Whose 2025 sessions with 2025-only members serve it: the federated session's id (default: the user). */
  owner?: string | undefined;
  /** The edge's facts of the request (its lazy disconnect `signal` reaches members). */
  info?: RequestInfo | undefined;
  /** The request's trace, when telemetry is on: a child span per member request. */
  trace?: McpRequestTrace | undefined;
  /**
   * A request header by lower-case name, for a 2026-07-28 request: a `tools/call`'s
   * `Mcp-Param-*` headers are checked against its arguments (SEP-2243). Absent for 2025
   * requests (their headers are not looked at).
   */
  header?: ((name: string) => string | null) | undefined;
}

/** What the endpoint needs from the gateway. */
export interface FederatedEndpointDeps {
  registry: ServiceRegistry;
  logger: Logger;
  hooks?: FederationHooks | undefined;
  /** Told of each routed tool call (logs, webhooks). */
  onToolCall?: (service: string, tool: string, identity: Identity, args: unknown) => void;
  /** Tool-call metrics, counted as on the service's own route (member names, published tools only). */
  metrics?: Pick<GatewayMetrics, 'learnTools' | 'countToolCall'> | undefined;
  /** The gateway's telemetry: member requests of traced requests get spans. */
  telemetry?: Telemetry | undefined;
}

const LIST_METHODS: Record<string, ListKind> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};

const error = (code: number, message: string): MemberReply => ({ error: { code, message } });

/** A federated endpoint's method dispatch. */
export class FederatedEndpoint {
  readonly catalogs: Catalogs;
  /** Members found to refuse 2026-07-28 requests, asked through 2025 sessions from then on. */
  private readonly legacyOnly = new Set<string>();
  private readonly legacy: LegacyMemberSessions;
  private readonly completions = new MemberCompletions();
  /** The members' tools' `x-mcp-header` declarations, learnt from their lists. */
  private readonly paramHeaders = new MemberParamHeaders();

  constructor(
    readonly route: FederatedRoute,
    private readonly deps: FederatedEndpointDeps,
  ) {
    this.catalogs = new Catalogs(route.config, deps.logger);
    this.catalogs.onMerged = (kind, merged) => {
      if (kind !== 'tools') return;
      this.learnTools(merged.owners.values());
      this.paramHeaders.learn(merged);
    };
    const { maxSessions, sessionTimeout } = route.config;
    this.legacy = new LegacyMemberSessions({ maxSessions, idleMs: sessionTimeout * 1000 });
  }

  /** The members `identity` may use: enabled, its `users` list admits them, and the token holds their scopes. */
  members(identity: Identity): string[] {
    return this.route.config.services.filter((name) => this.mayUse(identity, name));
  }

  /** Whether `identity` may use at least one member (else the endpoint refuses them). */
  mayUseAny(identity: Identity): boolean {
    return this.route.config.services.some((name) => this.mayUse(identity, name));
  }

  private mayUse(identity: Identity, service: string): boolean {
    const e = this.deps.registry.get(service);
    if (!e || !mayUse(e.config.users, identity.sub)) return false;
    for (const scope of e.route.scopes) if (!identity.scopes.includes(scope)) return false;
    return true;
  }

  /**
   * Serves one request (never `initialize` or `server/discover`: the route answers those).
   * Per call: no promise of its own (each method's is the answer).
   */
  serve(req: FederatedRequest): Promise<MemberReply> {
    const members = this.members(req.identity);
    const ask = this.ask(req);
    const kind = LIST_METHODS[req.method];
    if (kind) return this.list(kind, req, members, ask);
    switch (req.method) {
      case 'ping':
        return Promise.resolve({ result: {} });
      case 'tools/call':
        return this.callTool(req, members, ask);
      case 'prompts/get':
        return this.routed('prompts', 'name', req, members, ask);
      case 'resources/read':
        return this.readResource(req, members, ask);
      case 'completion/complete':
        return complete(this, req, members, ask);
      default:
        return Promise.resolve(error(Code.MethodNotFound, `Method not found: ${req.method}`));
    }
  }

  /** Asks members for `req`'s caller, with its envelope, signal and the endpoint's deadline (and a span each, when traced). */
  ask(req: FederatedRequest): Ask {
    const timeoutMs = this.route.config.timeout * 1000;
    const opts: MemberRequestOptions = { identity: req.identity, meta: req.meta, timeoutMs, info: req.info };
    const owner = req.owner ?? userOwner(req.identity.sub);
    const { trace } = req;
    const t = this.deps.telemetry;
    if (!trace || !t)
      return (service, method, params, headers) =>
        this.askMember(owner, service, method, params, headers ? { ...opts, headers } : opts);
    return async (service, method, params, headers) => {
      const member = new MemberTrace(t, trace, service, method);
      const reply = await this.askMember(owner, service, method, params, { ...opts, headers, trace: member });
      member.end(reply);
      return reply;
    };
  }

  private askMember(
    owner: string,
    service: string,
    method: string,
    params: Record<string, unknown>,
    opts: MemberRequestOptions,
  ): Promise<MemberReply> {
    const entry = this.deps.registry.get(service);
    if (!entry) return Promise.resolve(error(-32000, `service "${service}" is not available`));
    const backend = this.deps.registry.backend(entry);
    if (this.legacyOnly.has(service)) {
      return this.legacy.request(owner, entry, backend, method, params, opts);
    }
    const reply = memberRequest(entry, backend, method, params, opts);
    // Only an `http` upstream can be 2025-only: every other backend serves 2026-07-28 (its reply is the answer).
    if (entry.config.type !== 'http') return reply;
    return reply.then((r) => {
      if (!refusesModern(r)) return r;
      this.legacyOnly.add(service);
      this.deps.logger.info('federated: member speaks only 2025, using sessions with it', {
        endpoint: this.route.localPath,
        service,
      });
      return this.legacy.request(owner, entry, backend, method, params, opts);
    });
  }

  /** What list-change watches and the input relay need of 2025-only members. */
  readonly legacyMembers = {
    /** The client refused the input a call of `owner`'s waits for on `requestState`: the member gets `error`. */
    refuse: (owner: string, requestState: unknown, error: RpcError): void =>
      this.legacy.inputs.refuse(owner, requestState, error),
    has: (service: string): boolean => this.legacyOnly.has(service),
    add: (service: string): void => void this.legacyOnly.add(service),
    /** `owner`'s session with `service` for a `GET` stream, kept until {@link closeOwner}. */
    session: (owner: string, service: string, identity: Identity): Promise<string | undefined> => {
      const entry = this.deps.registry.get(service);
      if (!entry) return Promise.resolve(undefined);
      const timeoutMs = this.route.config.timeout * 1000;
      const backend = this.deps.registry.backend(entry);
      return this.legacy.pinnedSession(owner, entry, backend, { identity, timeoutMs });
    },
  };

  /** Whether a member `identity` may use declares `completions` (the endpoint then declares it too). */
  offersCompletions(identity: Identity): Promise<boolean> {
    const ask = this.ask({ method: 'server/discover', params: {}, identity });
    return this.completions.offered(this.members(identity), ask);
  }

  /** Ends the member sessions of a federated 2025 session (or of a user, `user:<sub>`). */
  closeOwner(owner: string): void {
    this.legacy.closeOwner(owner);
  }

  private async list(
    kind: ListKind,
    req: FederatedRequest,
    members: string[],
    ask: Ask,
  ): Promise<MemberReply> {
    const merged = await this.catalogs.list(kind, req.identity.sub, members, ask);
    let items = merged.items;
    if (kind === 'tools' && this.deps.hooks?.filterTools) {
      const tools: FederatedTool[] = items.map((tool) => {
        const owner = merged.owners.get(tool.name as string)!;
        return { name: tool.name as string, service: owner.service, original: owner.original, tool };
      });
      const ctx = { endpoint: this.route.localPath, identity: req.identity };
      items = (await this.deps.hooks.filterTools(ctx, tools)).map((t) => t.tool);
    }
    return { result: { [kind]: items } };
  }

  /**
   * The owner of a shown tool or prompt name, from the prefix (`always`) or the routing table:
   * at once when known (no promise), else once the members are listed.
   */
  ownerOf(
    kind: 'tools' | 'prompts',
    name: string,
    req: FederatedRequest,
    members: string[],
    ask: Ask,
  ): Owner | undefined | Promise<Owner | undefined> {
    const { prefix, separator } = this.route.config;
    if (prefix === 'always') return ownerByPrefix(name, members, separator);
    const user = req.identity.sub;
    const known = this.catalogs.fresh(kind, user, members)?.owners.get(name);
    if (known) return known;
    // Not listed lately, or a name the remembered table does not know (it may be new): list.
    return this.catalogs.list(kind, user, members, ask).then((merged) => merged.owners.get(name));
  }

  private async callTool(req: FederatedRequest, members: string[], ask: Ask): Promise<MemberReply> {
    const name = req.params.name;
    if (typeof name !== 'string') return error(Code.InvalidParams, 'Invalid params: name must be a string');
    const found = this.ownerOf('tools', name, req, members, ask);
    const owner = found instanceof Promise ? await found : found;
    if (!owner) return error(Code.InvalidParams, `Unknown tool: ${name}`);
    if (req.header) await this.checkParamHeaders(owner, req, ask);
    const hooks = this.deps.hooks;
    if (hooks?.admitCall) {
      const refusal = await hooks.admitCall({
        endpoint: this.route.localPath,
        identity: req.identity,
        service: owner.service,
        tool: owner.original,
        name,
        arguments: req.params.arguments,
        annotations: () => toolAnnotations(this.catalogs, name, req.identity.sub, members, ask),
      });
      // Sent as the hook wrote it (the policy's `-32010` is `-31010` for a 2026-07-28 caller: eras.ts).
      if (refusal) return { error: refusal, asSent: true, byPolicy: true };
    }
    req.trace?.annotate({ 'mcp.gateway.service': owner.service, 'mcp.gateway.member.tool': owner.original });
    this.deps.onToolCall?.(owner.service, owner.original, req.identity, req.params.arguments);
    // Unprefixed (`conditional` without a collision, `never`): the caller's params as they are.
    const params = owner.original === name ? req.params : { ...req.params, name: owner.original };
    const reply = await this.askCall(owner, params, req.identity.sub, members, ask);
    // Counted as a direct call is: answered with a result (an error is not a call).
    if ('result' in reply) this.deps.metrics?.countToolCall(owner.service, owner.original);
    return reply;
  }

  /**
   * SEP-2243, server side: a 2026-07-28 caller's `tools/call` must carry each argument
   * `owner`'s tool marks with `x-mcp-header` in its `Mcp-Param-*` header, mirroring it; else
   * it is refused before it reaches the member (or the policy), `400` `-32020`, as the bridge
   * refuses its clients'. The declarations are those of the members' lists; a member whose
   * tools no list showed yet lists them first (that member alone), and when its list fails the
   * call is not checked (the member then checks the headers the endpoint sends).
   */
  private async checkParamHeaders(owner: Owner, req: FederatedRequest, ask: Ask): Promise<void> {
    let declared = this.paramHeaders.declared(owner.service, owner.original);
    if (declared === undefined) {
      await this.catalogs.learnMember('tools', owner.service, ask);
      declared = this.paramHeaders.declared(owner.service, owner.original);
    }
    if (!declared?.length) return;
    const mismatch = paramHeaderMismatch(declared, req.params.arguments, req.header!);
    if (!mismatch) return;
    const message = `Header mismatch: ${mismatch.header} header ${mismatch.problem}`;
    throw new GatewayError(400, JsonRpcCode.HeaderMismatch, message);
  }

  /**
   * Asks `owner` for a tool call, with the `Mcp-Param-*` headers its tool declares
   * (SEP-2243). A member that refuses them (`-32020`: its tool changed, or was never
   * listed here) is listed again and, when that shows other headers, asked once more.
   */
  private async askCall(
    owner: Owner,
    params: Record<string, unknown>,
    user: string,
    members: string[],
    ask: Ask,
  ): Promise<MemberReply> {
    const args = params.arguments;
    const headers = this.paramHeaders.headers(owner.service, owner.original, args);
    const reply = await ask(owner.service, 'tools/call', params, headers);
    if (!('error' in reply) || reply.error.code !== Code.HeaderMismatch) return reply;
    await this.catalogs.list('tools', user, members, ask);
    const again = this.paramHeaders.headers(owner.service, owner.original, args);
    if (JSON.stringify(again) === JSON.stringify(headers)) return reply;
    return ask(owner.service, 'tools/call', params, again);
  }

  /** Teaches the metrics the members' published tool names (the `tool` label's bound). */
  private learnTools(owners: Iterable<Owner>): void {
    const metrics = this.deps.metrics;
    if (!metrics) return;
    const byService = new Map<string, string[]>();
    for (const o of owners) {
      let names = byService.get(o.service);
      if (!names) byService.set(o.service, (names = []));
      names.push(o.original);
    }
    for (const [service, names] of byService) metrics.learnTools(service, names);
  }

  private async routed(
    kind: 'prompts',
    key: 'name',
    req: FederatedRequest,
    members: string[],
    ask: Ask,
  ): Promise<MemberReply> {
    const name = req.params[key];
    if (typeof name !== 'string') return error(Code.InvalidParams, `Invalid params: ${key} must be a string`);
    const owner = await this.ownerOf(kind, name, req, members, ask);
    if (!owner) return error(Code.InvalidParams, `Unknown prompt: ${name}`);
    return ask(owner.service, 'prompts/get', { ...req.params, [key]: owner.original });
  }

  /**
   * `resources/read`: URIs are not rewritten, so the owner is the member that
   * listed the URI (the first one, when two did), else the first whose
   * template matches it.
   */
  private async readResource(req: FederatedRequest, members: string[], ask: Ask): Promise<MemberReply> {
    const uri = req.params.uri;
    if (typeof uri !== 'string') return error(Code.InvalidParams, 'Invalid params: uri must be a string');
    const owner = await this.resourceOwner(uri, req.identity.sub, members, ask);
    if (!owner) return error(Code.ResourceNotFound, `Resource not found: ${uri}`);
    return ask(owner.service, 'resources/read', req.params);
  }

  /** The member owning `uri` among `members` (as `resources/read` routes it; also resource subscriptions). */
  async resourceOwner(uri: string, user: string, members: string[], ask: Ask): Promise<Owner | undefined> {
    let owner = (await this.catalogs.routing('resources', user, members, ask)).owners.get(uri);
    if (!owner) {
      const templates = await this.catalogs.routing('resourceTemplates', user, members, ask);
      for (const [template, o] of templates.owners) {
        if (templateMatcher(template).test(uri)) {
          owner = o;
          break;
        }
      }
    }
    return owner ?? (await this.catalogs.list('resources', user, members, ask)).owners.get(uri);
  }
}
