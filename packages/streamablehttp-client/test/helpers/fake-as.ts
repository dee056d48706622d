/**
 * A small, real HTTP server that plays a misbehaving MCP server +
 * authorization server, for failure modes the SDK's server cannot produce
 * (malformed metadata, a wrong issuer, HTML pages). Routes answer with
 * whatever the test gives; `{base}` in bodies is replaced by the server's URL.
 */
import { listen, type Listening } from '@mcp-gateway/testkit';

export type Route = (req: Request, base: string) => Response | Promise<Response>;

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

export const html = (title: string, status = 200) =>
  new Response(
    `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`,
    {
      status,
      headers: { 'content-type': 'text/html' },
    },
  );

export async function startFakeServer(
  routes: Record<string, Route>,
): Promise<Listening & { hits: string[] }> {
  const hits: string[] = [];
  const box: { base: string } = { base: '' };
  const l = await listen(async (req) => {
    const path = new URL(req.url).pathname;
    hits.push(`${req.method} ${path}`);
    const route = routes[`${req.method} ${path}`] ?? routes[path];
    return route ? route(req, box.base) : new Response('not found', { status: 404 });
  });
  box.base = l.url;
  return { ...l, hits };
}

/** A 401 like an MCP server's, pointing at `{base}/prm`. */
export const challenge401: Route = (_req, base) =>
  json({ error: 'invalid_token' }, 401, { 'www-authenticate': `Bearer resource_metadata="${base}/prm"` });

/** Good protected-resource metadata naming `{base}` as issuer. */
export const goodPrm: Route = (_req, base) =>
  json({ resource: `${base}/mcp`, authorization_servers: [`${base}/`] });

/** The body of good authorization-server metadata for issuer `{base}/`. */
const goodAsMetadataBody = (base: string) => ({
  issuer: `${base}/`,
  authorization_endpoint: `${base}/authorize`,
  token_endpoint: `${base}/token`,
  registration_endpoint: `${base}/register`,
  code_challenge_methods_supported: ['S256'],
  response_types_supported: ['code'],
});

/** Good authorization-server metadata for issuer `{base}/`. */
export const goodAsMetadata: Route = (_req, base) => json(goodAsMetadataBody(base));

/**
 * An MCP server + authorization server whose metadata names `endpoint` (`{base}` is replaced by
 * its URL) as the authorization endpoint; it registers any client, and `registrations()` counts
 * the registration requests.
 */
export async function startServerWithAuthorizationEndpoint(endpoint: string) {
  const s = await startFakeServer({
    '/mcp': challenge401,
    '/prm': goodPrm,
    '/.well-known/oauth-authorization-server': (_req, base) =>
      json({ ...goodAsMetadataBody(base), authorization_endpoint: endpoint.replace('{base}', base) }),
    'POST /register': async (req) => {
      const body = (await req.json()) as { redirect_uris: string[] };
      return json({ client_id: 'registered-client', redirect_uris: body.redirect_uris }, 201);
    },
  });
  return { ...s, registrations: () => s.hits.filter((h) => h === 'POST /register').length };
}
