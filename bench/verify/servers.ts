// Child process of bench/verify/run.ts: starts the authorization server's
// /verify (node:http via toNodeListener) and a bare node:http server doing
// jose.jwtVerify with the same key, obtains a real access token and a
// DPoP-bound one (RFC 9449, proof at /token) through the local login flow,
// and prints one JSON line with the URLs, the tokens and the DPoP key (the
// load generator signs the per-request proofs with it).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import {
  createAuthorizationServer,
  forwardAuthNodeListener,
  hashPassword,
  localIdentityProvider,
  silentLogger,
  toNodeListener,
} from '@mcp-gateway/oauth-dynamicclient';

async function listen(listener: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(listener);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const late: { handler?: http.RequestListener } = {};
const asHttp = await listen((req, res) => late.handler!(req, res));
const issuer = asHttp.url;
const resource = `${issuer}/mcp`;
const as = createAuthorizationServer({
  issuer,
  resources: [{ resource, scopes: ['mcp'], default: true }],
  logger: silentLogger,
  rateLimits: { authorize: false, token: false, login: false, default: false },
  identityProvider: localIdentityProvider({
    users: [
      { username: 'bench', passwordHash: await hashPassword('bench-password', { N: 1024, r: 8, p: 1 }) },
    ],
  }),
});
late.handler = toNodeListener(as.fetch);
await as.ready();

/** A real token through the real flow: authorize → local login → callback → consent → token (with a DPoP proof when given). */
async function tokenThroughFlow(dpop?: () => Promise<string>): Promise<string> {
  const redirect = 'http://127.0.0.1:9/cb';
  const reg = await as.clients.register({ redirect_uris: [redirect], token_endpoint_auth_method: 'none' });
  const verifier = 'b'.repeat(43);
  const challenge = Buffer.from(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  ).toString('base64url');
  let cookie = '';
  const go = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { cookie, ...(init.headers as Record<string, string>) },
    });
    const set = res.headers.getSetCookie()[0];
    if (set) cookie = set.split(';')[0]!;
    return res;
  };
  const form = (body: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams(body),
  });
  const auth = await go(
    `${issuer}/authorize?${new URLSearchParams({ client_id: reg.client.client_id, redirect_uri: redirect, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256' })}`,
  );
  const state = new URL(auth.headers.get('location')!).searchParams.get('state')!;
  const field = (name: string, page: string) =>
    new RegExp(`name="${name}"\\s+value="([^"]+)"`).exec(page)![1]!;
  // The login form's CSRF token is bound to this browser's flow cookie.
  const loginPage = await (await go(auth.headers.get('location')!)).text();

  const login = await go(
    `${issuer}/login`,
    form({ state, csrf: field('csrf', loginPage), username: 'bench', password: 'bench-password' }),
  );
  // Follow the server's own redirects (callback → consent) to the consent page.
  let hop = login;
  while (hop.headers.get('location')?.startsWith(issuer)) hop = await go(hop.headers.get('location')!);
  const consentPage = await hop.text();
  const approved = await go(
    `${issuer}/consent`,
    form({
      consent_id: field('consent_id', consentPage),
      csrf: field('csrf', consentPage),
      decision: 'approve',
    }),
  );
  const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
  const tokenRes = (await (
    await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(dpop ? { dpop: await dpop() } : {}),
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirect,
        client_id: reg.client.client_id,
      }),
    })
  ).json()) as { access_token: string };
  return tokenRes.access_token;
}

const token = await tokenThroughFlow();
// The DPoP key of the load generator's proofs, and a token bound to it (cnf.jkt).
const dpopPair = await generateKeyPair('ES256', { extractable: true });
const dpopJwk = await exportJWK(dpopPair.publicKey);
const dpopToken = await tokenThroughFlow(() =>
  new SignJWT({
    htm: 'POST',
    htu: `${issuer}/token`,
    jti: crypto.randomUUID(),
    iat: Math.floor(Date.now() / 1000),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: dpopJwk })
    .sign(dpopPair.privateKey),
);

// The peer: the same check a hand-written resource server would do with jose.
const jwks = createLocalJWKSet(await as.keys.jwks());
const bare = await listen((req, res) => {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return void res.writeHead(401).end();
  jwtVerify(m[1]!, jwks, { issuer, audience: resource, typ: 'at+jwt', algorithms: ['ES256'] }).then(
    (r) => {
      res.writeHead(200, { 'x-user-id': String(r.payload.sub), 'x-client-id': String(r.payload.client_id) });
      res.end();
    },
    () => void res.writeHead(401).end(),
  );
});

const direct = await listen(forwardAuthNodeListener(as));

console.log(
  JSON.stringify({
    verifyUrl: `${issuer}/verify`,
    directUrl: `${direct.url}/verify`,
    bareUrl: bare.url,
    token,
    dpopToken,
    dpopPrivateJwk: await exportJWK(dpopPair.privateKey),
    dpopPublicJwk: dpopJwk,
    resource,
    host: new URL(issuer).host,
  }),
);
process.on('SIGTERM', () => process.exit(0));
