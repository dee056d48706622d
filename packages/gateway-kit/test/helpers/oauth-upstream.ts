// A protected MCP upstream for upstream sign-in tests: an RFC 9728 document, an authorization
// server (RFC 8414 metadata, RFC 7591 registration, /authorize that approves at once, /token with
// PKCE) that records what it is sent, and an MCP endpoint (fetch-server, both protocol eras) that
// takes only the access tokens it issued. Real HTTP on 127.0.0.1.
import { createHash } from 'node:crypto';
import { createFetchServer, silentLogger } from '@mcp-gateway/fetch-server';
import { listen, type Listening } from '@mcp-gateway/testkit';

/** One token request the authorization server received. */
export interface TokenRequest {
  grantType: string | null;
  code: string | null;
  clientId: string | null;
  redirectUri: string | null;
}

export interface OAuthUpstream extends Listening {
  /** The MCP endpoint (the service's `url`). */
  resource: string;
  /** Registered clients: id → redirect URIs. */
  clients: Map<string, string[]>;
  /** Codes this server issued. */
  codes: string[];
  /** Every token request, in order. */
  tokenRequests: TokenRequest[];
  /** Bodies of the MCP requests it served with a valid token, in order. */
  mcpBodies: unknown[];
  /**
   * A malicious server: where `/authorize` sends the browser instead of back to the gateway, given
   * the request's query (the mix-up attack bounces it to another server's `/authorize`).
   */
  bounce?: (query: URLSearchParams) => string;
}

/** Starts an upstream named `name` (its client ids, codes and tokens say it); its `fetch` tool reads 127.0.0.1 only. */
export async function startOAuthUpstream(name: string): Promise<OAuthUpstream> {
  const mcp = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true, logger: silentLogger });
  const pending = new Map<string, { clientId: string; redirectUri: string; challenge: string }>();
  const tokens = new Set<string>();
  let n = 0;
  const up = {} as OAuthUpstream;
  const server = await listen(async (request) => {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/.well-known/oauth-protected-resource/mcp':
        return Response.json({ resource: up.resource, authorization_servers: [up.url] });
      case '/.well-known/oauth-authorization-server':
        return Response.json({
          issuer: up.url,
          authorization_endpoint: `${up.url}/authorize`,
          token_endpoint: `${up.url}/token`,
          registration_endpoint: `${up.url}/register`,
          code_challenge_methods_supported: ['S256'],
        });
      case '/register': {
        const body = (await request.json()) as { redirect_uris: string[] };
        const clientId = `${name}-client-${++n}`;
        up.clients.set(clientId, body.redirect_uris);
        return Response.json({ client_id: clientId, redirect_uris: body.redirect_uris }, { status: 201 });
      }
      case '/authorize': {
        const q = url.searchParams;
        if (up.bounce) return Response.redirect(up.bounce(q), 302);
        const clientId = q.get('client_id') ?? '';
        const redirectUri = q.get('redirect_uri') ?? '';
        if (!up.clients.get(clientId)?.includes(redirectUri))
          return new Response('unknown client or redirect_uri', { status: 400 });
        const code = `${name}-code-${++n}`;
        up.codes.push(code);
        pending.set(code, { clientId, redirectUri, challenge: q.get('code_challenge') ?? '' });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state') ?? '');
        return Response.redirect(back.href, 302);
      }
      case '/token': {
        const form = new URLSearchParams(await request.text());
        const basic = request.headers.get('authorization');
        const clientId =
          form.get('client_id') ??
          (basic ? Buffer.from(basic.slice(6), 'base64').toString().split(':')[0]! : null);
        up.tokenRequests.push({
          grantType: form.get('grant_type'),
          code: form.get('code'),
          clientId,
          redirectUri: form.get('redirect_uri'),
        });
        const grant = pending.get(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (
          !grant ||
          grant.clientId !== clientId ||
          grant.redirectUri !== form.get('redirect_uri') ||
          grant.challenge !== challenge
        )
          return Response.json({ error: 'invalid_grant' }, { status: 400 });
        pending.delete(form.get('code')!);
        const token = `${name}-at-${++n}`;
        tokens.add(token);
        return Response.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
      }
      case '/mcp': {
        const auth = request.headers.get('authorization') ?? '';
        if (!tokens.has(auth.replace(/^Bearer /, '')))
          return new Response(null, {
            status: 401,
            headers: {
              'www-authenticate': `Bearer resource_metadata="${up.url}/.well-known/oauth-protected-resource/mcp"`,
            },
          });
        const text = request.method === 'POST' ? await request.text() : undefined;
        if (text !== undefined) up.mcpBodies.push(JSON.parse(text));
        return mcp(
          new Request(request.url, { method: request.method, headers: request.headers, body: text }),
        );
      }
      default:
        return new Response(null, { status: 404 });
    }
  });
  return Object.assign(up, server, {
    resource: `${server.url}/mcp`,
    clients: new Map(),
    codes: [],
    tokenRequests: [],
    mcpBodies: [],
  });
}
