import { createHash, randomBytes } from 'node:crypto';
import { CliError } from '../cli/errors.js';
import { CLI_CLIENT_ID, CLI_REDIRECT_URI } from './authorization.js';
import type { Gateway } from './create.js';
import { adminResource, accountResource } from './resources.js';
import { createTicket, TICKET_PARAM } from './tickets.js';

/** Tokens as the token endpoint returns them. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

function cookieHeader(jar: Map<string, string>, res: Response) {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    jar.set(pair!.slice(0, i), pair!.slice(i + 1));
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/**
 * `mcp-gateway token --user U --service S` (a service name, `admin`, `account`,
 * or the URL of one of `protectedResources`): runs the real authorization-code
 * flow in-process (PKCE, consent, token endpoint) for a built-in public
 * client, with a one-time sign-in ticket standing in for the user's
 * password. The token is an ordinary access token for the service.
 */
export async function issueToken(
  gateway: Gateway,
  user: string,
  service: string,
  scope?: string,
): Promise<TokenResponse> {
  const { config } = gateway;
  const issuer = config.issuer.replace(/\/+$/, '');
  const target =
    service === 'admin'
      ? adminResource(issuer)
      : service === 'account'
        ? accountResource(issuer)
        : (() => {
            const e = gateway.services.get(service);
            if (e) return { resource: e.route.resource, scopes: e.route.scopes };
            const external = config.protectedResources.find((r) => r.resource === service);
            if (external) return { resource: external.resource, scopes: external.scopes };
            throw new CliError(
              `no service "${service}" (nor protected resource); see mcp-gateway config check`,
            );
          })();
  let identity;
  if (config.idp.type === 'local') {
    // `alice` or her id `local:alice`.
    if (user.startsWith('local:')) user = user.slice('local:'.length);
    const u =
      (await gateway.users.get(user)) ??
      config.idp.users.find((x) => x.username.toLowerCase() === user.toLowerCase());
    if (!u) throw new CliError(`no local user "${user}"; add one with: mcp-gateway users add ${user}`);
    identity = { sub: `local:${u.username}`, login: u.username, ...(u.name ? { name: u.name } : {}) };
  } else {
    const m = /^([a-z0-9-]+):(.+)$/.exec(user);
    if (!m)
      throw new CliError(
        `with the ${config.idp.type} identity provider, --user is a subject such as github:583231`,
      );
    identity = { sub: user, login: m[2]! };
  }
  const as = gateway.authorization;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(`${issuer}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLI_CLIENT_ID,
    redirect_uri: CLI_REDIRECT_URI,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    resource: target.resource,
    scope: scope ?? target.scopes.join(' '),
  }).toString();
  const jar = new Map<string, string>();
  let res = await as.fetch(new Request(authorize, { redirect: 'manual' }));
  let cookie = cookieHeader(jar, res);
  const upstream = res.headers.get('location');
  if (!upstream)
    throw new CliError(`authorization failed (${res.status}): ${(await res.text()).slice(0, 300)}`);
  const upstreamState = new URL(upstream, issuer).searchParams.get('state') ?? '';
  const callback = new URL(`${issuer}/callback`);
  callback.searchParams.set('state', upstreamState);
  callback.searchParams.set(TICKET_PARAM, await createTicket(gateway.store, identity));
  res = await as.fetch(new Request(callback, { headers: { cookie } }));
  cookie = cookieHeader(jar, res);
  // The callback sends the browser on to the consent page (a URL that survives a reload).
  const consentAt = res.status === 303 ? res.headers.get('location') : null;
  if (consentAt && new URL(consentAt, issuer).pathname.endsWith('/consent')) {
    res = await as.fetch(new Request(new URL(consentAt, issuer), { headers: { cookie } }));
    cookie = cookieHeader(jar, res);
  }
  if (res.status === 200) {
    // The consent page: approve it as the user would.
    const html = await res.text();
    const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    const fields = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      fields.set(m[1]!, m[2]!.replace(/&amp;/g, '&'));
    fields.set('decision', 'approve');
    if (!action) throw new CliError('unexpected page from the authorization server');
    res = await as.fetch(
      new Request(action, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie,
          origin: new URL(issuer).origin,
        },
        body: fields,
      }),
    );
  }
  const back = res.headers.get('location');
  const code = back ? new URL(back).searchParams.get('code') : null;
  if (!code) {
    const err = back ? new URL(back).searchParams.get('error_description') : (await res.text()).slice(0, 300);
    throw new CliError(`authorization failed: ${err ?? res.status}`);
  }
  res = await as.fetch(
    new Request(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: CLI_REDIRECT_URI,
        client_id: CLI_CLIENT_ID,
        code_verifier: verifier,
        resource: target.resource,
      }),
    }),
  );
  const body = (await res.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!res.ok) throw new CliError(`token endpoint: ${body.error}: ${body.error_description ?? ''}`);
  return {
    access_token: body.access_token,
    token_type: body.token_type,
    expires_in: body.expires_in,
    ...(body.scope ? { scope: body.scope } : {}),
  };
}
