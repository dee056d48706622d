import { listen, listenNode, type Listening } from '@mcp-gateway/testkit';
import { requireBearerAuth as requireBearerAuthV2 } from '@modelcontextprotocol/express';
import * as v1Errors from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth as requireBearerAuthV1 } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { requireBearerAuth as fetchGateV2 } from '@modelcontextprotocol/server';
import express, { type RequestHandler } from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.js';
import type { Store } from '../../src/store/types.js';
import { createAccessTokenVerifier } from '../../src/resource/remote-verifier.js';
import { createIntrospectionVerifier } from '../../src/resource/introspection-verifier.js';
import { mcpTokenVerifier, type McpAuthInfo } from '../../src/resource/mcp-verifier.js';
import * as forExpress from '../../src/resource/express.js';
import * as forHono from '../../src/resource/hono.js';
import { issueAccessToken, localUsers, startAs, type TestAs } from './helpers.js';

let t: TestAs;
let full: string; // scopes mcp:read mcp:write
let readOnly: string; // scope mcp:read
const servers: Listening[] = [];

beforeAll(async () => {
  t = await startAs({ identityProvider: { type: 'local', users: await localUsers() } });
  full = (await issueAccessToken(t)).access_token;
  readOnly = (await issueAccessToken(t, { scope: 'mcp:read' })).access_token;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await t.close();
});

const describeAuth = (auth: McpAuthInfo | undefined) => ({
  clientId: auth?.clientId,
  scopes: auth?.scopes,
  resource: auth?.resource?.href,
  sub: auth?.extra?.sub,
  login: auth?.extra?.login,
});

/** An Express app whose GET /mcp is guarded by `guard` and echoes `req.auth`. */
async function expressApp(guard: RequestHandler): Promise<string> {
  const app = express();
  app.use(
    forExpress.protectedResourceMetadata({
      resource: t.resource,
      authorizationServers: [t.url],
      scopes: ['mcp:read'],
    }),
  );
  app.get('/mcp', guard, (req, res) => void res.json(describeAuth(req.auth)));
  const s = await listenNode(app);
  servers.push(s);
  return s.url;
}

const get = (url: string, token?: string) =>
  fetch(`${url}/mcp`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

const metadataUrl = `/.well-known/oauth-protected-resource/mcp`;

describe("mcpTokenVerifier: the MCP SDK's OAuthTokenVerifier, so the SDK's requireBearerAuth accepts our tokens", () => {
  it('v1 requireBearerAuth: AuthInfo on req.auth; refused token 401 invalid_token; missing scope 403 insufficient_scope', async () => {
    const verifier = mcpTokenVerifier(t.as, { resource: t.resource, errors: v1Errors });
    const url = await expressApp(
      requireBearerAuthV1({
        verifier,
        requiredScopes: ['mcp:write'],
        expectedResource: new URL(t.resource),
        resourceMetadataUrl: `${t.url}${metadataUrl}`,
      }),
    );
    const ok = await get(url, full);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      scopes: ['mcp:read', 'mcp:write'],
      resource: t.resource,
      sub: 'local:alice',
      login: 'alice',
    });
    const forged = await get(url, `${full.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(await forged.json()).toMatchObject({ error: 'invalid_token' });
    const narrow = await get(url, readOnly);
    expect(narrow.status).toBe(403);
    expect(narrow.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="mcp:write"/);
  });

  it("v1 requireBearerAuth: another resource's token is refused with 401, not accepted or 500", async () => {
    const verifier = mcpTokenVerifier(t.as, { resource: 'https://elsewhere.example/mcp', errors: v1Errors });
    const url = await expressApp(requireBearerAuthV1({ verifier }));
    const res = await get(url, full);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: 'invalid_token',
      error_description: 'token not valid for this resource',
    });
  });

  it('v1 without the SDK error classes: the middleware cannot classify our errors (500), hence the `errors` option', async () => {
    const url = await expressApp(
      requireBearerAuthV1({ verifier: mcpTokenVerifier(t.as, { resource: t.resource }) }),
    );
    expect((await get(url, 'not-a-jwt')).status).toBe(500);
  });

  it('v2 requireBearerAuth (@modelcontextprotocol/express): 200 / 401 / 403 with no error classes passed', async () => {
    const verifier = mcpTokenVerifier(t.as, { resource: t.resource });
    const url = await expressApp(
      requireBearerAuthV2({ verifier, requiredScopes: ['mcp:write'], expectedResource: new URL(t.resource) }),
    );
    const ok = await get(url, full);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ sub: 'local:alice', resource: t.resource });
    const bad = await get(url, 'not-a-jwt');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'invalid_token', error_description: 'token malformed' });
    expect((await get(url, readOnly)).status).toBe(403);
  });

  it("v2 fetch gate (@modelcontextprotocol/server) with a remote verifier (the issuer's JWKS over HTTP)", async () => {
    const verifier = mcpTokenVerifier(createAccessTokenVerifier({ issuer: t.url }), {
      resource: t.resource,
      scopes: ['mcp:write'],
    });
    const gate = fetchGateV2({ verifier, expectedResource: new URL(t.resource) });
    const s = await listen(async (request) => {
      const auth = await gate(request);
      return auth instanceof Response ? auth : Response.json(describeAuth(auth));
    });
    servers.push(s);
    expect(await (await get(s.url, full)).json()).toMatchObject({ login: 'alice' });
    expect((await get(s.url, 'x.y.z')).status).toBe(401);
    // The scope is checked by our verifier here (not the SDK): still a 403.
    const narrow = await get(s.url, readOnly);
    expect(narrow.status).toBe(403);
    expect(await narrow.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  it('a store outage is a server error (500), never a 401 that would send the client back to sign-in', async () => {
    // A store whose every operation fails as an unreachable Redis does.
    const store = new Proxy({} as Store, {
      get: () => () => Promise.reject(new StoreUnavailableError('storage unavailable')),
    });
    const verify = createAccessTokenVerifier({ issuer: t.url, store });
    const url = await expressApp(
      requireBearerAuthV2({ verifier: mcpTokenVerifier(verify, { resource: t.resource }) }),
    );
    const res = await get(url, full);
    expect(res.status).toBe(500);
    // Our own middleware can say it properly: 503 with Retry-After.
    const ours = await expressApp(forExpress.bearerAuth({ verifier: verify, resource: t.resource }));
    const unavailable = await get(ours, full);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe("/express and /hono middlewares: RFC 6750/9728 challenges and the SDK's AuthInfo on the request", () => {
  const options = () => ({ verifier: t.as, resource: t.resource, scopes: ['mcp:write'] });
  const challenge = () =>
    `Bearer scope="mcp:write", resource_metadata="${new URL(t.resource).origin}${metadataUrl}"`;

  async function honoApp(): Promise<string> {
    const app = new Hono();
    app.use(
      forHono.protectedResourceMetadata({
        resource: t.resource,
        authorizationServers: [t.url],
        scopes: ['mcp:read'],
      }),
    );
    app.get('/mcp', forHono.bearerAuth(options()), (c) => c.json(describeAuth(c.get('auth'))));
    const s = await listen((request) => app.fetch(request));
    servers.push(s);
    return s.url;
  }

  it.each(['express', 'hono'])(
    '%s: no token 401 with the challenge, refused 401 invalid_token, narrow 403, valid passes',
    async (kind) => {
      const url = kind === 'express' ? await expressApp(forExpress.bearerAuth(options())) : await honoApp();
      const none = await get(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe(challenge());
      const malformed = await fetch(`${url}/mcp`, { headers: { authorization: 'Bearer' } });
      expect(malformed.status).toBe(401);
      expect(malformed.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      const expired = await get(url, `${full.slice(0, -4)}AAAA`);
      expect(expired.status).toBe(401);
      expect(await expired.json()).toEqual({
        error: 'invalid_token',
        error_description: 'token signature invalid',
      });
      const narrow = await get(url, readOnly);
      expect(narrow.status).toBe(403);
      expect(narrow.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
      const ok = await get(url, full);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({
        clientId: expect.any(String),
        scopes: ['mcp:read', 'mcp:write'],
        resource: t.resource,
        sub: 'local:alice',
        login: 'alice',
      });
    },
  );

  it.each(['express', 'hono'])(
    '%s: protectedResourceMetadata serves the RFC 9728 document at its well-known path only',
    async (kind) => {
      const url = kind === 'express' ? await expressApp(forExpress.bearerAuth(options())) : await honoApp();
      const res = await fetch(`${url}${metadataUrl}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        resource: t.resource,
        authorization_servers: [t.url],
        scopes_supported: ['mcp:read'],
        bearer_methods_supported: ['header'],
      });
      expect((await fetch(`${url}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
    },
  );
});

describe('createIntrospectionVerifier: a resource server in another process asks RFC 7662 /introspect', () => {
  async function introspector() {
    const reg = await t.as.clients.register({
      redirect_uris: ['https://rs.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    return { clientId: reg.client.client_id, clientSecret: reg.clientSecret! };
  }

  it('accepts an active token, and sees a revocation at once (the JWKS verifier without the store does not)', async () => {
    const { access_token } = await issueAccessToken(t);
    const introspection = createIntrospectionVerifier({ issuer: t.url, ...(await introspector()) });
    const url = await expressApp(forExpress.bearerAuth({ verifier: introspection, resource: t.resource }));
    const ok = await get(url, access_token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ sub: 'local:alice', login: 'alice', resource: t.resource });

    const claims = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()) as {
      client_id: string;
    };
    const revoked = await fetch(`${t.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: access_token, client_id: claims.client_id }),
    });
    expect(revoked.status).toBe(200);
    const after = await get(url, access_token);
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: 'invalid_token', error_description: 'token not active' });
    const jwksOnly = createAccessTokenVerifier({ issuer: t.url });
    expect((await jwksOnly(access_token, { resource: t.resource })).sub).toBe('local:alice');
  });

  it('audience, scope and issuer are checked like verifyAccessToken; an unreachable endpoint is 503, not 401', async () => {
    const creds = await introspector();
    const introspection = createIntrospectionVerifier({ issuer: t.url, ...creds });
    await expect(introspection(full, { resource: 'https://elsewhere.example/mcp' })).rejects.toMatchObject({
      reason: 'audience',
    });
    await expect(
      introspection(readOnly, { resource: t.resource, scopes: ['mcp:write'] }),
    ).rejects.toMatchObject({
      error: 'insufficient_scope',
      // sep-2350: the step-up challenge names the token's scopes plus the required one
      challengeScopes: ['mcp:read', 'mcp:write'],
    });
    const otherIssuer = createIntrospectionVerifier({
      issuer: `${t.url}/other`,
      introspectionEndpoint: `${t.url}/introspect`,
      ...creds,
    });
    await expect(otherIssuer(full, { resource: t.resource })).rejects.toMatchObject({ reason: 'issuer' });
    const wrongSecret = createIntrospectionVerifier({
      issuer: t.url,
      clientId: creds.clientId,
      clientSecret: 'nope',
    });
    const down = await expressApp(forExpress.bearerAuth({ verifier: wrongSecret, resource: t.resource }));
    // The server refused us (401 invalid_client): our problem, not the token's.
    expect((await get(down, full)).status).toBe(503);
    const closed = await listen(() => new Response('x'));
    await closed.close();
    const unreachable = createIntrospectionVerifier({
      issuer: t.url,
      introspectionEndpoint: `${closed.url}/introspect`,
      ...creds,
    });
    await expect(unreachable(full, { resource: t.resource })).rejects.toMatchObject({
      error: 'temporarily_unavailable',
    });
  });
});
