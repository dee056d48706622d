import { AuthError } from '../../auth.js';
import { listProblems, listsSubject, otherSubjects } from '../../config/subjects.js';
import { jsonError } from '../../errors.js';
import { AddressRefusedError, bareHostname } from '../../http/address-guard.js';
import { decodePathSegment } from '../../http/path.js';
import { addressedUrl, type PublicRequest } from '../../http/public-url.js';
import type { Identity } from '../../identity.js';
import type { Logger } from '../../ops/logger.js';
import { ServiceRegistryError, type ServiceEntry } from '../../services/registry.js';
import { readAdminJson } from '../request-body.js';
import { ADMIN_SCOPE, resourcesOf } from '../resources.js';
import { adminPolicies } from './admin-policies.js';
import type { OwnRoute, RouteContext } from './context.js';

/** A service as the admin API shows it: upstream credentials and env values are never returned. */
export function describeService(e: ServiceEntry) {
  const config = { ...e.config } as Record<string, unknown>;
  if ('credentials' in config && config.credentials)
    config.credentials = { type: (config.credentials as { type: string }).type, redacted: true };
  if ('env' in config && config.env)
    config.env = Object.fromEntries(Object.keys(config.env).map((k) => [k, '[redacted]']));
  return { name: e.name, origin: e.origin, url: e.route.resource, scopes: e.route.scopes, config };
}

/**
 * What the admin API refuses before storing a runtime service: a `stdio`
 * service unless `admin.allowStdioServices` (it runs a command on this
 * host), and `users` entries that can never match a signed-in user. The
 * registry validates the rest (its zod schema).
 */
function runtimeServiceRefusal(ctx: RouteContext, input: unknown): Response | undefined {
  const { config } = ctx;
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

/** A `400 address_not_allowed` answer; `setting` names the config key that would allow it. */
function addressNotAllowed(description: string, setting: boolean): Response {
  return Response.json(
    {
      error: 'address_not_allowed',
      error_description: description,
      ...(setting ? { setting: 'admin.allowPrivateHttpServices' } : {}),
    },
    { status: 400, headers: { 'cache-control': 'no-store' } },
  );
}

const NEVER_METADATA = 'Cloud metadata endpoints are never reachable through the gateway.';
const ONLY_WITH_SETTING =
  'An http service added through the admin API may reach internal addresses only when the config sets admin.allowPrivateHttpServices: true.';

/**
 * Where a runtime `http` service leads: its host is resolved now and every address checked against
 * `admin.allowPrivateHttpServices` (public only by default; cloud metadata never). A host that does
 * not resolve is refused too: it cannot be checked. The proxy checks again on each connection.
 *
 * The answer never names an address a host name resolved to (the log does, for the operator): the
 * admin is not to read the gateway's internal DNS. While internal addresses are refused, a name
 * that does not resolve and a name that resolves to a non-public address get the same answer, so
 * refusals do not tell which internal names exist either. An IP literal is described (the admin
 * typed it).
 */
async function httpServiceRefusal(
  ctx: RouteContext,
  input: unknown,
  name: string,
  log: Logger,
): Promise<Response | undefined> {
  const service = (typeof input === 'object' && input !== null ? input : {}) as {
    type?: unknown;
    url?: unknown;
  };
  if (service.type !== 'http' || typeof service.url !== 'string' || !URL.canParse(service.url)) return;
  const url = new URL(service.url);
  // Anything else is the schema's to refuse.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
  try {
    await ctx.runtimeHttp.check(url);
    return undefined;
  } catch (err) {
    const refused = err instanceof AddressRefusedError ? err : undefined;
    const code = (err as NodeJS.ErrnoException).code;
    log.warn('runtime http service refused', {
      service: name,
      url: url.origin,
      reason: refused ? refused.message : `could not resolve ${url.hostname}${code ? ` (${code})` : ''}`,
    });
    const where = `url ${url.origin}:`;
    const metadata = refused?.classification.range === 'cloudMetadata';
    if (refused?.literal) {
      return addressNotAllowed(
        `${where} ${refused.message}. ${metadata ? NEVER_METADATA : ONLY_WITH_SETTING}`,
        !metadata,
      );
    }
    const hostname = bareHostname(url);
    if (!ctx.runtimeHttp.allowPrivate) {
      return addressNotAllowed(
        `${where} ${hostname} could not be resolved or resolves to a non-public address. ${ONLY_WITH_SETTING}`,
        true,
      );
    }
    // Internal addresses are the admin's to reach: only cloud metadata (or no answer) is refused.
    if (refused) {
      return addressNotAllowed(
        `${where} ${hostname} resolves to ${refused.kind}${metadata ? `. ${NEVER_METADATA}` : ''}`,
        false,
      );
    }
    return jsonError(
      400,
      'invalid_service',
      `${where} could not resolve ${hostname}${code ? ` (${code})` : ''}, so where it leads cannot be checked`,
    );
  }
}

/** `PUT /admin/services/{name}`: adds or replaces a runtime service. */
async function putService(
  ctx: RouteContext,
  request: Request,
  name: string,
  identity: Identity,
  log: Logger,
): Promise<Response> {
  const body = await readAdminJson(request);
  if ('refusal' in body) return body.refusal;
  const { input } = body;
  const refusal = runtimeServiceRefusal(ctx, input) ?? (await httpServiceRefusal(ctx, input, name, log));
  if (refusal) return refusal;
  const e = await ctx.registry.put(name, input);
  await ctx.auth.setResources?.(resourcesOf(ctx.registry, ctx.config.issuer, ctx.config.federated));
  log.info('service added', { service: name, admin: identity.sub });
  ctx.webhooks.emit({ type: 'service', action: 'service.put', data: { service: name, by: identity.sub } });
  return Response.json(describeService(e), { status: 201 });
}

/** `DELETE /admin/services/{name}`: removes a runtime service. */
async function deleteService(ctx: RouteContext, name: string, identity: Identity, log: Logger) {
  await ctx.registry.remove(name);
  await ctx.auth.setResources?.(resourcesOf(ctx.registry, ctx.config.issuer, ctx.config.federated));
  log.info('service removed', { service: name, admin: identity.sub });
  ctx.webhooks.emit({
    type: 'service',
    action: 'service.deleted',
    data: { service: name, by: identity.sub },
  });
  return new Response(null, { status: 204 });
}

/** The admin API's answer for an admin: list, read, add/replace and remove services. */
async function services(
  ctx: RouteContext,
  request: Request,
  name: string | undefined,
  identity: Identity,
  log: Logger,
): Promise<Response> {
  const { registry } = ctx;
  if (!name && request.method === 'GET') {
    return Response.json({ services: registry.list().map((e) => describeService(e)) });
  }
  if (name && request.method === 'GET') {
    const e = registry.get(name);
    return e ? Response.json(describeService(e)) : jsonError(404, 'not_found', `no service "${name}"`);
  }
  if (name && request.method === 'PUT') return putService(ctx, request, name, identity, log);
  if (name && request.method === 'DELETE') return deleteService(ctx, name, identity, log);
  return jsonError(405, 'method_not_allowed', `${request.method} is not allowed here`);
}

/**
 * `/admin/*`: the admin API, for tokens with the `mcp:admin` scope of an
 * account in `admins`: `/admin/services[/{name}]` and `/admin/policies`.
 */
export function adminRoute(ctx: RouteContext): OwnRoute {
  const meta = `${ctx.issuer.origin}/.well-known/oauth-protected-resource${new URL(ctx.admin.resource).pathname}`;
  async function serve(request: Request, pub: PublicRequest, log: Logger, path: string | undefined) {
    let identity: Identity;
    try {
      const h = request.headers;
      const http = { method: request.method, url: addressedUrl(pub), dpop: h.get('dpop') };
      identity = await ctx.authenticate(h.get('authorization'), ctx.admin.resource, [ADMIN_SCOPE], http);
    } catch (err) {
      if (err instanceof AuthError) return ctx.authFailure(err, meta, [ADMIN_SCOPE]);
      throw err;
    }
    if (!listsSubject(ctx.config.admins, identity.sub)) {
      return jsonError(403, 'access_denied', 'this account is not a gateway admin');
    }
    await ctx.registry.refresh();
    if (path === '/admin/policies') return adminPolicies(ctx, request, identity, log);
    const m = /^\/admin\/services(?:\/([^/]+))?$/.exec(path!);
    if (!m) return jsonError(404, 'not_found', 'no such admin endpoint');
    try {
      return await services(ctx, request, m[1] ? decodePathSegment(m[1]) : undefined, identity, log);
    } catch (err) {
      if (err instanceof ServiceRegistryError) return jsonError(err.status, err.code, err.message);
      throw err;
    }
  }
  /** Admin answers carry service configurations and policies: never cached by a browser or proxy. */
  async function serveUncached(request: Request, pub: PublicRequest, log: Logger, path: string | undefined) {
    const res = await serve(request, pub, log, path);
    res.headers.set('cache-control', 'no-store');
    return res;
  }
  return { kind: 'admin', matches: (path) => !!path?.startsWith('/admin/'), serve: serveUncached };
}
