// DPoP (RFC 9449) clients for gateway tests: a listening gateway signing in
// through the OIDC stub, tokens from its /token with oauth4webapi, MCP calls
// with oauth4webapi's proofs or hand-made ones (for the refusals).
import { accessTokenHash } from '@mcp-gateway/oauth-dynamicclient';
import { freePort, type OidcStub } from '@mcp-gateway/testkit';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, expect } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { createLogger } from '../../src/ops/logger.js';
import { Jar } from './jar.js';

export const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'http://127.0.0.1:7777/cb';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A listening gateway whose issuer is its own address (so `/token` proofs name it), signing in with `op`. */
export async function dpopGateway(
  op: OidcStub,
  input: GatewayConfigInput,
): Promise<{ gw: Gateway; url: string; as: oauth.AuthorizationServer }> {
  const port = await freePort();
  const { config } = resolveConfig(
    {
      issuer: `http://127.0.0.1:${port}`,
      listen: { host: '127.0.0.1', port },
      store: { type: 'memory' },
      idp: {
        type: 'oidc',
        issuer: op.issuer,
        clientId: 'oidc-client',
        clientSecret: 'oidc-secret',
        allowedUsers: ['*'],
      },
      ...input,
    },
    { env: {} },
  );
  const gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  cleanups.push(() => gw.close(0));
  const url = await gw.listen();
  const as = await oauth.processDiscoveryResponse(
    new URL(url),
    await oauth.discoveryRequest(new URL(url), insecure),
  );
  return { gw, url, as };
}

/** Approves the consent page: posts its first form (hidden fields plus `decision=approve`). */
async function approve(base: string, jar: Jar, html: string): Promise<Response> {
  const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
  const fields = new URLSearchParams({ decision: 'approve' });
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields.set(m[1]!, m[2]!.replace(/&amp;/g, '&'));
  const res = await fetch(new URL(action, base), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header, origin: base },
    body: fields,
  });
  return jar.take(res);
}

/** A public client registered at the gateway (`/register`) for the code and refresh grants. */
export async function publicClient(url: string): Promise<oauth.Client> {
  const reg = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'dpop test',
    }),
  });
  expect(reg.status).toBe(201);
  const { client_id } = (await reg.json()) as { client_id: string };
  return { client_id, token_endpoint_auth_method: 'none' };
}

/**
 * A sign-in through the gateway and the OIDC stub (authorize, provider,
 * callback, consent), then the token request with a DPoP proof of `DPoP`'s
 * key (retried once on `use_dpop_nonce`, as a client does).
 */
export async function dpopTokens(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  resource: string,
  DPoP: oauth.DPoPHandle,
): Promise<oauth.TokenEndpointResponse> {
  const base = as.issuer;
  const verifier = oauth.generateRandomCodeVerifier();
  const authorize = new URL(as.authorization_endpoint!);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'st',
    resource,
    scope: `mcp:${new URL(resource).pathname.split('/')[1]}`,
  }).toString();
  const jar = new Jar();
  let start = jar.take(await fetch(authorize, { redirect: 'manual' }));
  if (start.status === 303) {
    // A self-registered client and a third-party provider: the consent page comes first.
    const page = await fetch(new URL(start.headers.get('location')!, base), {
      redirect: 'manual',
      headers: { cookie: jar.header },
    });
    start = await approve(base, jar, await page.text());
  }
  const upstream = start.headers.get('location')!;
  const callback = (await fetch(upstream, { redirect: 'manual' })).headers.get('location')!;
  let res = jar.take(await fetch(callback, { redirect: 'manual', headers: { cookie: jar.header } }));
  const next = res.headers.get('location');
  if (res.status === 303 && next && new URL(next, base).pathname === '/consent')
    res = jar.take(await fetch(new URL(next, base), { redirect: 'manual', headers: { cookie: jar.header } }));
  if (res.status === 200) res = await approve(base, jar, await res.text());
  const back = new URL(res.headers.get('location')!);
  if (back.searchParams.get('error')) throw new Error(`sign-in refused: ${back.search}`);
  const params = oauth.validateAuthResponse(as, client, back, 'st');
  const send = async () =>
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, {
        ...insecure,
        DPoP,
        additionalParameters: { resource },
      }),
    );
  return send().catch((err: unknown) => {
    if (oauth.isDPoPNonceError(err)) return send();
    throw err;
  });
}

/** A DPoP key pair as a client holds it. */
export interface ProofKey {
  pair: CryptoKeyPair;
  jwk: JWK;
}

export async function proofKey(): Promise<ProofKey> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { pair, jwk: await exportJWK(pair.publicKey) };
}

/** A hand-made proof (RFC 9449 §4.2) for `htm` `htu`, with `ath` of `accessToken`. */
export async function makeProof(
  key: ProofKey,
  htm: string,
  htu: string,
  opts: { accessToken?: string; nonce?: string } = {},
): Promise<string> {
  return new SignJWT({
    htm,
    htu,
    jti: crypto.randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    ...(opts.accessToken ? { ath: await accessTokenHash(opts.accessToken) } : {}),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })
    .sign(key.pair.privateKey);
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

/** A JSON-RPC POST through oauth4webapi with a DPoP handle; a 401 challenge's response is returned, not thrown. */
export function dpopPost(
  url: string,
  token: string,
  DPoP: oauth.DPoPHandle,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return oauth
    .protectedResourceRequest(
      token,
      'POST',
      new URL(url),
      new Headers({ ...MCP_HEADERS, ...headers }),
      JSON.stringify(body),
      { ...insecure, DPoP },
    )
    .catch((err: unknown) => {
      if (err instanceof oauth.WWWAuthenticateChallengeError) return err.response;
      throw err;
    });
}

/** The challenges of a `WWW-Authenticate` value by scheme (`Bearer`, `DPoP`). */
export function challenges(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of (header ?? '').split(/, (?=(?:Bearer|DPoP)(?: |$))/)) out[c.split(' ')[0]!] = c;
  return out;
}

/** The `error` parameter of the `scheme` challenge of a `WWW-Authenticate` value. */
export const challengeError = (header: string | null, scheme: 'Bearer' | 'DPoP'): string | undefined =>
  /error="([^"]+)"/.exec(challenges(header)[scheme] ?? '')?.[1];
