// DPoP (RFC 9449) through the gateway: a token bound at the gateway's /token
// (oauth4webapi as the client, sign-in through the OIDC stub) calls a stdio
// child, the built-in fetch service and an `http` upstream, in 2025 sessions
// and 2026-07-28 stateless requests; every replay of it is refused.
import { createFetchServer } from '@mcp-gateway/fetch-server';
import {
  challengeParams,
  fixtureMcpServerCommand,
  listen,
  request2026,
  startOidcStub,
  type Listening,
} from '@mcp-gateway/testkit';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  challengeError,
  challenges,
  dpopGateway,
  dpopPost,
  dpopTokens,
  insecure,
  makeProof,
  MCP_HEADERS,
  proofKey,
  publicClient,
  type ProofKey,
} from './helpers/dpop.js';
import { rpcResult } from './helpers.js';

const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
/** A 2026-07-28 request: the `_meta` envelope and its mirrored headers (SEP-2243), id 7. */
const modern = (method: string, params: Record<string, unknown> = {}) => {
  const { message, headers } = request2026(method, params, { id: 7 });
  return { body: message, headers };
};
const textOf = (m: Record<string, unknown>) =>
  (m.result as { content: { text: string }[] }).content.map((c) => c.text).join('');

let op: Awaited<ReturnType<typeof startOidcStub>>;
let page: Listening;
let upstream: Listening;
/** Request header names the `http` upstream received. */
const upstreamHeaders = new Set<string>();
let url: string;
let as: oauth.AuthorizationServer;
let client: oauth.Client;
let key: ProofKey;
let other: ProofKey;
let DPoP: oauth.DPoPHandle;
const tokens: Record<string, oauth.TokenEndpointResponse> = {};

beforeAll(async () => {
  op = await startOidcStub();
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  const fetchServer = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true });
  upstream = await listen((request) => {
    request.headers.forEach((_v, k) => upstreamHeaders.add(k));
    return fetchServer(request);
  });
  ({ url, as } = await dpopGateway(op, {
    services: {
      stdio: { type: 'stdio', ...fixtureMcpServerCommand() },
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      upstream: { type: 'http', url: `${upstream.url}/mcp` },
    },
  }));
  client = await publicClient(url);
  key = await proofKey();
  other = await proofKey();
  DPoP = oauth.DPoP(client, key.pair);
  for (const s of ['stdio', 'fetch', 'upstream'])
    tokens[s] = await dpopTokens(as, client, `${url}/${s}/mcp`, DPoP);
});
afterAll(async () => {
  await Promise.all([op?.close(), page?.close(), upstream?.close()]);
});

describe('rfc9449 at the gateway: metadata and token binding', () => {
  it('rfc8414 + rfc9728: the gateway advertises dpop_signing_alg_values_supported', async () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'EdDSA']));
    const prm = await (await fetch(`${url}/.well-known/oauth-protected-resource/stdio/mcp`)).json();
    expect(prm).toMatchObject({ dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']) });
    expect(prm).not.toHaveProperty('dpop_bound_access_tokens_required');
  });

  it('rfc9449 §5: /token answers token_type DPoP and cnf.jkt of the proof key', async () => {
    const jkt = await calculateJwkThumbprint(key.jwk);
    for (const t of Object.values(tokens)) {
      expect(t.token_type).toBe('dpop');
      expect(decodeJwt(t.access_token).cnf).toEqual({ jkt });
    }
  });
});

describe('rfc9449 §7: a DPoP-bound token calls every kind of service', () => {
  it('stdio child: a 2025 session (initialize, tools/call) and a 2026-07-28 stateless request', async () => {
    const mcp = `${url}/stdio/mcp`;
    const token = tokens.stdio!.access_token;
    const init = await dpopPost(mcp, token, DPoP, initialize);
    expect(init.status).toBe(200);
    await init.text();
    const sid = {
      'mcp-session-id': init.headers.get('mcp-session-id')!,
      'mcp-protocol-version': '2025-06-18',
    };
    const note = await dpopPost(
      mcp,
      token,
      DPoP,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      sid,
    );
    expect(note.status).toBe(202);
    const call = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'hi' } },
    };
    const res = await dpopPost(mcp, token, DPoP, call, sid);
    expect([res.status, textOf(await rpcResult(res))]).toEqual([200, 'hi']);

    const m = modern('tools/call', { name: 'add', arguments: { a: 2, b: 3 } });
    const stateless = await dpopPost(mcp, token, DPoP, m.body, m.headers);
    expect([stateless.status, textOf(await rpcResult(stateless))]).toEqual([200, '5']);
  });

  it('built-in fetch service and http upstream: 2025 session and 2026-07-28; no token or proof reaches the upstream', async () => {
    for (const s of ['fetch', 'upstream']) {
      const mcp = `${url}/${s}/mcp`;
      const token = tokens[s]!.access_token;
      const init = await dpopPost(mcp, token, DPoP, initialize);
      expect(init.status).toBe(200);
      await init.text();
      const sid = {
        'mcp-session-id': init.headers.get('mcp-session-id') ?? '',
        'mcp-protocol-version': '2025-06-18',
      };
      const list = await dpopPost(mcp, token, DPoP, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, sid);
      expect(JSON.stringify(await rpcResult(list))).toContain('"fetch"');
      const m = modern('tools/call', { name: 'fetch', arguments: { url: `${page.url}/` } });
      const res = await dpopPost(mcp, token, DPoP, m.body, m.headers);
      expect([res.status, textOf(await rpcResult(res))]).toEqual([
        200,
        expect.stringContaining('hello from the page'),
      ]);
    }
    expect(upstreamHeaders.size).toBeGreaterThan(0);
    expect([...upstreamHeaders].filter((h) => h === 'authorization' || h === 'dpop')).toEqual([]);
  });
});

describe('rfc9449 §7.1: replays of the token are refused with the RFC 9449 error', () => {
  // A 2026-07-28 tools/list: self-contained, so each refusal is one request.
  const list = modern('tools/list');
  const send = (service: string, headers: Record<string, string>) =>
    fetch(`${url}/${service}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...list.headers, ...headers },
      body: JSON.stringify(list.body),
    });

  for (const service of ['stdio', 'fetch']) {
    it(`${service}: no proof, another key, another URL, another method, a reused jti, and as Bearer → 401`, async () => {
      const token = tokens[service]!.access_token;
      const htu = `${url}/${service}/mcp`;
      const dpop = (proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof });
      const reused = await makeProof(key, 'POST', htu, { accessToken: token });
      const first = await send(service, dpop(reused));
      expect(first.status).toBe(200);
      await first.text();
      const cases: [string, Record<string, string>, string][] = [
        ['no proof', { authorization: `DPoP ${token}` }, 'invalid_dpop_proof'],
        ['another key', dpop(await makeProof(other, 'POST', htu, { accessToken: token })), 'invalid_token'],
        [
          'another URL',
          dpop(await makeProof(key, 'POST', `${url}/other/mcp`, { accessToken: token })),
          'invalid_dpop_proof',
        ],
        [
          'another method',
          dpop(await makeProof(key, 'GET', htu, { accessToken: token })),
          'invalid_dpop_proof',
        ],
        ['no ath', dpop(await makeProof(key, 'POST', htu)), 'invalid_dpop_proof'],
        ['a reused jti', dpop(reused), 'invalid_dpop_proof'],
        ['as Bearer', { authorization: `Bearer ${token}` }, 'invalid_token'],
      ];
      for (const [what, headers, error] of cases) {
        const res = await send(service, headers);
        const header = res.headers.get('www-authenticate');
        expect([what, res.status, challengeError(header, 'DPoP')]).toEqual([what, 401, error]);
        expect(((await res.json()) as { error: string }).error, what).toBe(error);
        // Both schemes are offered, with the RFC 9728 parameters; the error is on the DPoP one.
        expect(Object.keys(challenges(header)), what).toEqual(['Bearer', 'DPoP']);
        const { Bearer, DPoP: dpopParams } = challengeParams(header);
        expect(Bearer, what).toEqual({
          resource_metadata: `${url}/.well-known/oauth-protected-resource/${service}/mcp`,
          scope: `mcp:${service}`,
        });
        expect(dpopParams, what).toMatchObject({
          algs: expect.stringMatching(/^ES256 /),
          resource_metadata: expect.any(String),
          scope: expect.any(String),
          error,
        });
      }
    });
  }

  it('a tampered token with a proof for it is invalid_token on the DPoP challenge, and never echoed', async () => {
    const token = tokens.stdio!.access_token;
    const htu = `${url}/stdio/mcp`;
    const tampered = `${token.slice(0, -4)}AAAA`;
    const res = await send('stdio', {
      authorization: `DPoP ${tampered}`,
      dpop: await makeProof(key, 'POST', htu, { accessToken: tampered }),
    });
    expect([res.status, challengeError(res.headers.get('www-authenticate'), 'DPoP')]).toEqual([
      401,
      'invalid_token',
    ]);
    expect(await res.text()).not.toContain(tampered.slice(0, 20));
  });
});

describe('rfc9449 §5: a public client’s DPoP-bound refresh token', () => {
  it('is refused without its key (invalid_dpop_proof) and with another key (invalid_grant); its key refreshes', async () => {
    const refresh = async (opts: oauth.TokenEndpointRequestOptions) =>
      oauth
        .processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.stdio!.refresh_token!, {
            ...insecure,
            ...opts,
          }),
        )
        .catch((err: unknown) => {
          if (err instanceof oauth.ResponseBodyError) return { error: err.error };
          throw err;
        });
    expect(await refresh({})).toEqual({ error: 'invalid_dpop_proof' });
    expect(await refresh({ DPoP: oauth.DPoP(client, other.pair) })).toEqual({ error: 'invalid_grant' });
    const refreshed = (await refresh({ DPoP })) as oauth.TokenEndpointResponse;
    expect(refreshed.token_type).toBe('dpop');
    const res = await dpopPost(
      `${url}/stdio/mcp`,
      refreshed.access_token,
      DPoP,
      modern('tools/list').body,
      modern('tools/list').headers,
    );
    expect(res.status).toBe(200);
  });
});
