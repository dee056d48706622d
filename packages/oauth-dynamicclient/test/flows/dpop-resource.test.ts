import { listen, listenNode, type Listening } from '@mcp-gateway/testkit';
import express from 'express';
import { Hono } from 'hono';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardAuthNodeListener } from '../../src/endpoints/verify.js';
import { createIntrospectionVerifier } from '../../src/resource/introspection-verifier.js';
import { mcpTokenVerifier } from '../../src/resource/mcp-verifier.js';
import { createAccessTokenVerifier } from '../../src/resource/remote-verifier.js';
import { requireBearer } from '../../src/resource/require-bearer.js';
import * as forExpress from '../../src/resource/express.js';
import * as forHono from '../../src/resource/hono.js';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { sha256 } from '../../src/dpop/proof-key.js';
import { MemoryStore } from '../../src/store/keyv.js';
import { DpopError } from '../../src/dpop/errors.js';
import { InvalidTokenError } from '../../src/tokens/errors.js';
import { makeProof, proofKey, type ProofKey } from '../helpers/dpop.js';
import { startAs, type TestAs } from './helpers.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

let t: TestAs;
let key: ProofKey;
let other: ProofKey;
let token: string; // DPoP-bound to `key`, scopes mcp:read mcp:write
let client: { id: string; secret: string };
const servers: Listening[] = [];

/** A client-credentials client of `as` and its access token, DPoP-bound to `key`. */
async function boundToken(as: TestAs, scope: string) {
  const reg = await as.as.clients.register({
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope,
  });
  const client = { id: reg.client.client_id, secret: reg.clientSecret! };
  const meta = await oauth.processDiscoveryResponse(
    new URL(as.url),
    await oauth.discoveryRequest(new URL(as.url), insecure),
  );
  const c: oauth.Client = { client_id: client.id };
  const tokens = await oauth.processClientCredentialsResponse(
    meta,
    c,
    await oauth.clientCredentialsGrantRequest(
      meta,
      c,
      oauth.ClientSecretBasic(client.secret),
      { resource: as.resource },
      { ...insecure, DPoP: oauth.DPoP(c, key.pair) },
    ),
  );
  return { client, token: tokens.access_token };
}

beforeAll(async () => {
  t = await startAs({ grants: { clientCredentials: true } });
  key = await proofKey();
  other = await proofKey();
  ({ client, token } = await boundToken(t, 'mcp:read mcp:write'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await t.close();
});

describe('ForwardAuth /verify with DPoP: htu rebuilt from X-Forwarded-Method/Proto/Host/Uri', () => {
  const r = () => new URL(t.resource);
  const forwarded = (method: string, uri: string) => ({
    'x-forwarded-method': method,
    'x-forwarded-proto': 'http',
    'x-forwarded-host': r().host,
    'x-forwarded-uri': uri,
  });

  for (const via of ['route', 'node listener'] as const) {
    it(`${via}: a proof for the forwarded request passes; wrong method, URL, key, scheme are 401`, async () => {
      let base = t.url;
      if (via === 'node listener') {
        const srv = await listenNode(forwardAuthNodeListener(t.as));
        servers.push(srv);
        base = srv.url;
      }
      const verify = (headers: Record<string, string>) => fetch(`${base}/verify`, { headers });
      const htu = `${r().origin}/mcp/session`;
      const ok = await verify({
        ...forwarded('POST', '/mcp/session?x=1'),
        authorization: `DPoP ${token}`,
        dpop: await makeProof(key, 'POST', htu, { accessToken: token }),
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-client-id')).toBe(client.id);

      const cases: [string, Record<string, string>, RegExp][] = [
        [
          'proof for GET, request was POST',
          {
            ...forwarded('POST', '/mcp/session'),
            authorization: `DPoP ${token}`,
            dpop: await makeProof(key, 'GET', htu, { accessToken: token }),
          },
          /error="invalid_dpop_proof", error_description="DPoP proof htm/,
        ],
        [
          'proof for another path',
          {
            ...forwarded('POST', '/mcp/other'),
            authorization: `DPoP ${token}`,
            dpop: await makeProof(key, 'POST', htu, { accessToken: token }),
          },
          /error="invalid_dpop_proof", error_description="DPoP proof htu/,
        ],
        [
          'no X-Forwarded-Method',
          {
            ...forwarded('POST', '/mcp/session'),
            'x-forwarded-method': '',
            authorization: `DPoP ${token}`,
            dpop: await makeProof(key, 'POST', htu, { accessToken: token }),
          },
          /error="invalid_dpop_proof"/,
        ],
        [
          'another key',
          {
            ...forwarded('POST', '/mcp/session'),
            authorization: `DPoP ${token}`,
            dpop: await makeProof(other, 'POST', htu, { accessToken: token }),
          },
          /error="invalid_token", error_description="DPoP proof key does not match/,
        ],
        [
          'bound token as Bearer',
          { ...forwarded('POST', '/mcp/session'), authorization: `Bearer ${token}` },
          /error="invalid_token", error_description="token is DPoP-bound/,
        ],
      ];
      for (const [name, headers, challenge] of cases) {
        const res = await verify(headers);
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
        const www = res.headers.get('www-authenticate')!;
        expect(www).toMatch(/^DPoP algs="ES384 ES256|^DPoP algs="ES256/);
        expect(www).toMatch(challenge);
        expect(www).toContain(`resource_metadata="${r().origin}/.well-known/oauth-protected-resource/mcp"`);
        expect(res.headers.get('x-user-id')).toBeNull();
      }
      // A replayed proof is refused.
      const once = await makeProof(key, 'GET', `${r().origin}/mcp`, { accessToken: token });
      const h = { ...forwarded('GET', '/mcp'), authorization: `DPoP ${token}`, dpop: once };
      expect((await verify(h)).status).toBe(200);
      const replay = await verify(h);
      expect(replay.status).toBe(401);
      expect(replay.headers.get('www-authenticate')).toMatch(/already used/);
    });
  }
});

describe('resource-side helpers and DPoP-bound tokens', () => {
  it('express and hono bearerAuth accept DPoP with a proof for their own URL', async () => {
    const options = { verifier: t.as, resource: t.resource, scopes: ['mcp:write'] };
    const app = express();
    app.get(
      '/mcp',
      forExpress.bearerAuth(options),
      (req, res) => void res.json({ client: req.auth?.clientId }),
    );
    const e = await listenNode(app);
    const hono = new Hono();
    hono.get('/mcp', forHono.bearerAuth(options), (c) => c.json({ client: c.get('auth').clientId }));
    const h = await listen((request) => hono.fetch(request));
    servers.push(e, h);
    for (const base of [e.url, h.url]) {
      const good = await fetch(`${base}/mcp`, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await makeProof(key, 'GET', `${base}/mcp`, { accessToken: token }),
        },
      });
      expect(good.status).toBe(200);
      expect(await good.json()).toEqual({ client: client.id });
      const bearer = await fetch(`${base}/mcp`, { headers: { authorization: `Bearer ${token}` } });
      expect(bearer.status).toBe(401);
      expect(bearer.headers.get('www-authenticate')).toMatch(/^DPoP algs=".*", error="invalid_token"/);
    }
  });

  it('requireBearer with dpop: false refuses the DPoP scheme', async () => {
    const guard = requireBearer(t.as.verifyAccessToken, { resource: t.resource, dpop: false });
    const check = await guard(
      new Request(t.resource, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await makeProof(key, 'GET', t.resource, { accessToken: token }),
        },
      }),
    );
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.response.status).toBe(401);
      expect(await check.response.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    }
  });

  it('the SDK-shaped verifier and the JWKS verifier refuse a bound token presented as Bearer', async () => {
    const sdk = mcpTokenVerifier(t.as, { resource: t.resource });
    await expect(sdk.verifyAccessToken(token)).rejects.toMatchObject({ code: 'invalid_token' });
    const remote = createAccessTokenVerifier({ issuer: t.url });
    await expect(remote(token, { resource: t.resource })).rejects.toMatchObject({ reason: 'dpop_binding' });
    const jkt = (await import('jose')).calculateJwkThumbprint;
    const dpopKey = await jkt(key.jwk);
    await expect(remote(token, { resource: t.resource, dpopKey })).resolves.toMatchObject({
      clientId: client.id,
    });
  });

  it('the introspection verifier accepts token_type DPoP and enforces cnf', async () => {
    const verify = createIntrospectionVerifier({
      issuer: t.url,
      clientId: client.id,
      clientSecret: client.secret,
    });
    await expect(verify(token, { resource: t.resource })).rejects.toMatchObject({ reason: 'dpop_binding' });
    const dpopKey = await (await import('jose')).calculateJwkThumbprint(key.jwk);
    const ok = await verify(token, { resource: t.resource, dpopKey });
    expect(ok.claims.cnf).toEqual({ jkt: dpopKey });
    await expect(
      verify(token, {
        resource: t.resource,
        dpopKey: await (await import('jose')).calculateJwkThumbprint(other.jwk),
      }),
    ).rejects.toMatchObject({ reason: 'dpop_binding' });
  });
});

describe('verifyPresentedToken: the same decision for callers that render their own responses', () => {
  it('DPoP with a proof passes; Bearer of a bound token, a missing header and a bad proof throw typed errors', async () => {
    const http = async (p: ProofKey = key) => ({
      method: 'GET',
      url: t.resource,
      dpop: await makeProof(p, 'GET', t.resource, { accessToken: token }),
    });
    const ok = await t.as.verifyPresentedToken(`DPoP ${token}`, await http(), { resource: t.resource });
    expect(ok.clientId).toBe(client.id);
    await expect(
      t.as.verifyPresentedToken(`Bearer ${token}`, await http(), { resource: t.resource }),
    ).rejects.toMatchObject({ reason: 'dpop_binding' });
    await expect(
      t.as.verifyPresentedToken(undefined, await http(), { resource: t.resource }),
    ).rejects.toMatchObject({ error: 'invalid_token', description: 'an access token is required' });
    await expect(
      t.as.verifyPresentedToken(
        `DPoP ${token}`,
        { ...(await http()), method: 'POST' },
        { resource: t.resource },
      ),
    ).rejects.toMatchObject({ name: 'DpopError', code: 'invalid_dpop_proof' });
  });
});

describe('dpop.enabled: false', () => {
  it('no metadata field, a DPoP header at /token is ignored (Bearer token), the DPoP scheme is refused', async () => {
    const off = await startAs({ grants: { clientCredentials: true }, dpop: { enabled: false } });
    try {
      const meta = (await (
        await fetch(`${off.url}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>;
      expect(meta).not.toHaveProperty('dpop_signing_alg_values_supported');
      const reg = await off.as.clients.register({
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'mcp:read',
      });
      const res = await fetch(`${off.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${reg.client.client_id}:${reg.clientSecret!}`).toString('base64')}`,
          dpop: await makeProof(key, 'POST', `${off.url}/token`),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: off.resource }),
      });
      const body = (await res.json()) as { token_type: string; access_token: string };
      expect(body.token_type).toBe('Bearer');
      const guard = off.as.requireBearer({ resource: off.resource });
      const dpop = await guard(
        new Request(off.resource, {
          headers: {
            authorization: `DPoP ${body.access_token}`,
            dpop: await makeProof(key, 'GET', off.resource, { accessToken: body.access_token }),
          },
        }),
      );
      expect(dpop.ok).toBe(false);
      const bearer = await guard(
        new Request(off.resource, { headers: { authorization: `Bearer ${body.access_token}` } }),
      );
      expect(bearer.ok).toBe(true);
    } finally {
      await off.close();
    }
  });
});

describe('a DPoP proof is recorded only once its token passed', () => {
  let s: TestAs;
  let store: MemoryStore;
  let bound: string;
  let guarded: Listening;
  beforeAll(async () => {
    store = new MemoryStore();
    s = await startAs({ grants: { clientCredentials: true }, store });
    bound = (await boundToken(s, 'mcp:read')).token;
    // A resource server on the server's own guard (the gateway's MCP routes use the same check).
    const guard = s.as.requireBearer({ resource: s.resource, scopes: ['mcp:read'] });
    guarded = await listen(async (req) => {
      const check = await guard(req);
      return check.ok ? new Response('ok') : check.response;
    });
    servers.push(guarded);
  });
  afterAll(() => s.close());

  /** The store key of a proof's jti (`tokens/jti-replay.ts`, issuer `dpop:<jkt>`). */
  const jtiKey = async (proof: string) =>
    `jti:${sha256(`dpop:${await calculateJwkThumbprint(key.jwk)}\u0000${decodeJwt(proof).jti as string}`)}`;

  const paths = {
    requireBearer: async (authorization: string, proof: string, htu: string) => {
      const res = await fetch(htu, { headers: { authorization, dpop: proof } });
      return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
    },
    forwardAuth: async (authorization: string, proof: string, htu: string) => {
      const u = new URL(htu);
      const res = await fetch(`${s.url}/verify`, {
        headers: {
          authorization,
          dpop: proof,
          'x-forwarded-method': 'GET',
          'x-forwarded-proto': 'http',
          'x-forwarded-host': new URL(s.resource).host,
          'x-forwarded-uri': u.pathname,
        },
      });
      return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
    },
    verifyPresentedToken: async (authorization: string, proof: string, htu: string) => {
      try {
        await s.as.verifyPresentedToken(
          authorization,
          { method: 'GET', url: htu, dpop: proof },
          {
            resource: s.resource,
          },
        );
        return { status: 200, challenge: '' };
      } catch (err) {
        // Typed errors for callers that render their own responses: their code and HTTP status.
        if (err instanceof InvalidTokenError)
          return {
            status: err.status,
            challenge: `error="${err.error}", error_description="${err.description}"`,
          };
        if (!(err instanceof DpopError)) throw err;
        return { status: 401, challenge: `error="${err.code}", error_description="${err.description}"` };
      }
    },
  };

  for (const [name, present] of Object.entries(paths)) {
    it(`${name}: junk token + valid self-signed proof is 401 invalid_token and stores no jti; a good one works once`, async () => {
      const htu = name === 'requireBearer' ? `${guarded.url}/mcp` : `${new URL(s.resource).origin}/mcp`;
      // Any key-holder can sign a proof for any string as the token: nothing may be written for it.
      for (const junk of ['junk', 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA']) {
        const proof = await makeProof(key, 'GET', htu, { accessToken: junk });
        const res = await present(`DPoP ${junk}`, proof, htu);
        expect(res.status).toBe(401);
        expect(res.challenge).toMatch(/error="invalid_token"/);
        expect(await store.get(await jtiKey(proof))).toBeUndefined();
      }
      // A valid bound token and proof: accepted once (the jti is then recorded), the replay refused.
      const proof = await makeProof(key, 'GET', htu, { accessToken: bound });
      expect((await present(`DPoP ${bound}`, proof, htu)).status).toBe(200);
      expect(await store.get(await jtiKey(proof))).toBe(1);
      const replay = await present(`DPoP ${bound}`, proof, htu);
      expect(replay.status).toBe(401);
      expect(replay.challenge).toMatch(
        /error="invalid_dpop_proof", error_description="DPoP proof already used/,
      );
    });
  }
});
