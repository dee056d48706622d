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
import { tokenThroughFlow } from './flow.js';

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

/** A real token through the real flow, over sockets (with a DPoP proof at /token when given). */
const flow = (dpop?: () => Promise<string>) =>
  tokenThroughFlow({
    as,
    issuer,
    send: (url, init) => fetch(url, { ...init, redirect: 'manual' }),
    username: 'bench',
    password: 'bench-password',
    ...(dpop ? { dpop } : {}),
  });

const token = await flow();
// The DPoP key of the load generator's proofs, and a token bound to it (cnf.jkt).
const dpopPair = await generateKeyPair('ES256', { extractable: true });
const dpopJwk = await exportJWK(dpopPair.publicKey);
const dpopToken = await flow(() =>
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
