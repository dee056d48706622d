// `authorization.dpop` settings at the gateway: server nonces (MCP route and
// ForwardAuth /verify), `required`, `enabled: false`, and the `htu` of a
// request behind a trusted reverse proxy. Real gateways on 127.0.0.1, a real
// stdio child, oauth4webapi and hand-made proofs as the client.
import {
  fixtureMcpServerCommand,
  MCP_2026,
  request2026,
  startOidcStub,
  type OidcStub,
} from '@mcp-gateway/testkit';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import {
  challengeError,
  challenges,
  dpopGateway,
  dpopPost,
  dpopTokens,
  insecure,
  makeProof,
  proofKey,
  publicClient,
  type ProofKey,
} from './helpers/dpop.js';

/** A 2026-07-28 tools/list: one self-contained request. */
const LIST = request2026('tools/list');
const services = { stdio: { type: 'stdio' as const, ...fixtureMcpServerCommand() } };

let op: OidcStub;
let key: ProofKey;
beforeAll(async () => {
  op = await startOidcStub();
  key = await proofKey();
});
afterAll(() => op?.close());

/** A gateway with `dpop` settings and a DPoP-bound token of `key` for its stdio service. */
async function withToken(input: Parameters<typeof dpopGateway>[1]) {
  const g = await dpopGateway(op, { services, ...input });
  const client = await publicClient(g.url);
  const DPoP = oauth.DPoP(client, key.pair);
  const tokens = await dpopTokens(g.as, client, `${g.url}/stdio/mcp`, DPoP);
  return { ...g, DPoP, token: tokens.access_token };
}

describe('authorization.dpop.nonce: rfc9449 §9 resource server nonces', () => {
  it('MCP route: a proof without the nonce gets 401 use_dpop_nonce + DPoP-Nonce; the retry with it passes', async () => {
    const { url, token, DPoP } = await withToken({ authorization: { dpop: { nonce: true } } });
    const htu = `${url}/stdio/mcp`;
    const send = async (nonce?: string) =>
      fetch(htu, {
        method: 'POST',
        headers: {
          ...LIST.headers,
          authorization: `DPoP ${token}`,
          dpop: await makeProof(key, 'POST', htu, { accessToken: token, ...(nonce ? { nonce } : {}) }),
        },
        body: LIST.body,
      });
    const first = await send();
    expect(first.status).toBe(401);
    expect(challengeError(first.headers.get('www-authenticate'), 'DPoP')).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const retry = await send(nonce!);
    expect(retry.status).toBe(200);
    expect(await retry.text()).toContain('"echo"');
    const stale = await send('A'.repeat(43));
    expect([stale.status, challengeError(stale.headers.get('www-authenticate'), 'DPoP')]).toEqual([
      401,
      'use_dpop_nonce',
    ]);
    // oauth4webapi keeps the nonce it was given and sends it on.
    const viaHandle = await dpopPost(htu, token, DPoP, JSON.parse(LIST.body), {
      'mcp-protocol-version': MCP_2026,
      'mcp-method': 'tools/list',
    });
    expect(viaHandle.status).toBe(200);
  });

  it('ForwardAuth /verify honours the same settings: nonce first, then 200', async () => {
    const { url, token } = await withToken({ authorization: { dpop: { nonce: true } } });
    const u = new URL(`${url}/stdio/mcp`);
    const verify = async (nonce?: string) =>
      fetch(`${url}/verify`, {
        headers: {
          'x-forwarded-method': 'POST',
          'x-forwarded-proto': 'http',
          'x-forwarded-host': u.host,
          'x-forwarded-uri': u.pathname,
          authorization: `DPoP ${token}`,
          dpop: await makeProof(key, 'POST', u.href, { accessToken: token, ...(nonce ? { nonce } : {}) }),
        },
      });
    const first = await verify();
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toMatch(/^DPoP .*error="use_dpop_nonce"/);
    const ok = await verify(first.headers.get('dpop-nonce')!);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-user-id')).toMatch(/^oidc:/);
  });
});

describe('authorization.dpop.required and enabled', () => {
  it('required: a Bearer token is refused with a DPoP-only challenge; a DPoP-bound one passes; rfc9728 says so', async () => {
    const { gw, url, token, DPoP } = await withToken({ authorization: { dpop: { required: true } } });
    const bearer = (await issueToken(gw, `oidc:${op.issuer}#alice-1`, 'stdio')).access_token;
    const res = await fetch(`${url}/stdio/mcp`, {
      method: 'POST',
      headers: { ...LIST.headers, authorization: `Bearer ${bearer}` },
      body: LIST.body,
    });
    expect(res.status).toBe(401);
    const header = res.headers.get('www-authenticate');
    expect(Object.keys(challenges(header))).toEqual(['DPoP']);
    expect(challengeError(header, 'DPoP')).toBe('invalid_token');
    const none = await fetch(`${url}/stdio/mcp`, { method: 'POST', headers: LIST.headers, body: LIST.body });
    expect(Object.keys(challenges(none.headers.get('www-authenticate')))).toEqual(['DPoP']);
    const ok = await dpopPost(`${url}/stdio/mcp`, token, DPoP, JSON.parse(LIST.body), {
      'mcp-protocol-version': MCP_2026,
      'mcp-method': 'tools/list',
    });
    expect(ok.status).toBe(200);
    const prm = await (await fetch(`${url}/.well-known/oauth-protected-resource/stdio/mcp`)).json();
    expect(prm).toMatchObject({ dpop_bound_access_tokens_required: true });
    // `/servers` applies the same rule: neither a Bearer token nor the DPoP-bound one presented as Bearer names a user.
    for (const t of [bearer, token]) {
      const listed = await fetch(`${url}/servers`, { headers: { authorization: `Bearer ${t}` } });
      expect([listed.status, ((await listed.json()) as { error?: string }).error]).toEqual([
        401,
        'invalid_token',
      ]);
    }
  });

  it('enabled: false: no DPoP in metadata or challenges, Bearer tokens only, the DPoP scheme refused', async () => {
    const { gw, url, as } = await dpopGateway(op, { services, authorization: { dpop: { enabled: false } } });
    expect(as.dpop_signing_alg_values_supported).toBeUndefined();
    const bearer = (await issueToken(gw, `oidc:${op.issuer}#alice-1`, 'stdio')).access_token;
    const call = async (authorization: string, dpop?: string) =>
      fetch(`${url}/stdio/mcp`, {
        method: 'POST',
        headers: { ...LIST.headers, authorization, ...(dpop ? { dpop } : {}) },
        body: LIST.body,
      });
    expect((await call(`Bearer ${bearer}`)).status).toBe(200);
    const refused = await call(
      `DPoP ${bearer}`,
      await makeProof(key, 'POST', `${url}/stdio/mcp`, { accessToken: bearer }),
    );
    expect(refused.status).toBe(401);
    expect(Object.keys(challenges(refused.headers.get('www-authenticate')))).toEqual(['Bearer']);
  });
});

describe('the admin API takes DPoP-bound tokens too', () => {
  it('GET /admin/services and /servers with a DPoP token and proof name the user; the same token as Bearer: 401 invalid_token on the DPoP challenge', async () => {
    const alice = `oidc:${op.issuer}#alice-1`;
    const restricted = { secret: { type: 'fetch' as const, users: [alice] } };
    const { url, as } = await dpopGateway(op, { services: { ...services, ...restricted }, admins: [alice] });
    const client = await publicClient(url);
    const DPoP = oauth.DPoP(client, key.pair);
    const { access_token } = await dpopTokens(as, client, `${url}/admin`, DPoP);
    const ok = await oauth.protectedResourceRequest(
      access_token,
      'GET',
      new URL(`${url}/admin/services`),
      undefined,
      undefined,
      { ...insecure, DPoP },
    );
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain('"stdio"');
    // `/servers` names the DPoP caller (its proof checked once, for the token's audience): the restricted service shows.
    const listed = async (dpop: boolean) => {
      const res = dpop
        ? await oauth.protectedResourceRequest(
            access_token,
            'GET',
            new URL(`${url}/servers`),
            undefined,
            undefined,
            {
              ...insecure,
              DPoP,
            },
          )
        : await fetch(`${url}/servers`);
      return ((await res.json()) as { servers: { name: string }[] }).servers.map((x) => x.name).sort();
    };
    expect([await listed(false), await listed(true)]).toEqual([['stdio'], ['secret', 'stdio']]);
    const bearer = await fetch(`${url}/admin/services`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect([bearer.status, challengeError(bearer.headers.get('www-authenticate'), 'DPoP')]).toEqual([
      401,
      'invalid_token',
    ]);
  });
});

describe('trustProxy: the htu of a proof is the URL the client addressed', () => {
  const external = 'https://mcp.example.com/stdio/mcp';
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mcp.example.com' };
  const send = async (url: string, token: string, htu: string) =>
    fetch(`${url}/stdio/mcp`, {
      method: 'POST',
      headers: {
        ...LIST.headers,
        ...forwarded,
        authorization: `DPoP ${token}`,
        dpop: await makeProof(key, 'POST', htu, { accessToken: token }),
      },
      body: LIST.body,
    });

  it('behind a trusted proxy a proof for the external URL passes and one for the internal URL is refused', async () => {
    const { url, token } = await withToken({ trustProxy: true, allowedHosts: ['mcp.example.com'] });
    expect((await send(url, token, external)).status).toBe(200);
    const internal = await send(url, token, `${url}/stdio/mcp`);
    expect([internal.status, challengeError(internal.headers.get('www-authenticate'), 'DPoP')]).toEqual([
      401,
      'invalid_dpop_proof',
    ]);
  });

  it('without trustProxy the forwarded headers are ignored: only the address the gateway saw counts', async () => {
    const { url, token } = await withToken({ allowedHosts: ['mcp.example.com'] });
    const spoofed = await send(url, token, external);
    expect([spoofed.status, challengeError(spoofed.headers.get('www-authenticate'), 'DPoP')]).toEqual([
      401,
      'invalid_dpop_proof',
    ]);
    expect((await send(url, token, `${url}/stdio/mcp`)).status).toBe(200);
  });
});
