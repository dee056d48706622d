// Issue 19 end to end: our CLI gets a DPoP-bound token from our gateway (DPoP is on by
// default on both sides) and calls a stdio service and the built-in fetch service with
// it; the same token replayed without a proof, as Bearer, with another key's proof or a
// proof for another URL is refused with the RFC 9449 error, and its refresh token is
// refused without the key.
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { FileTokenStore, type StoredCredentials } from '@mcp-gateway/streamablehttp-client';
import { killAllSpawned, listen, request2026, spawnCli, type Listening } from '@mcp-gateway/testkit';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCli,
  loginAndConsent,
  startGateway,
  tempDir,
  writeFetchAndFixtureConfig,
  type RunningGateway,
} from './gateway-helpers.js';

let gw: RunningGateway;
let page: Listening;
const home = tempDir('gw-client-dpop-');
const records = {} as Record<'fixture' | 'fetch', StoredCredentials>;

beforeAll(async () => {
  page = await listen(
    () =>
      new Response('<html><body><h1>Bound</h1><p>Fetched with a DPoP-bound token.</p></body></html>', {
        headers: { 'content-type': 'text/html' },
      }),
  );
  const cwd = tempDir();
  writeFetchAndFixtureConfig(cwd);
  gw = await startGateway({ cwd });
}, 60_000);

afterAll(async () => {
  await killAllSpawned();
  await page?.close();
});

/** Runs the CLI with `args` against `service`, signing in through the printed URL when asked. */
async function cli(
  service: string,
  args: string[],
  on: RunningGateway = gw,
): Promise<{ code: number | null; stdout: string }> {
  const p = spawnCli(
    process.execPath,
    [clientCli, ...args, '--url', `${on.url}/${service}/mcp`, '--oauth2', '--no-browser'],
    { env: { MCP_STREAMABLEHTTP_CLIENT_HOME: home } },
  );
  const signIn = p
    .waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr', timeoutMs: 30_000 })
    .then(async ([, url]) => {
      const back = await loginAndConsent(url!, { username: 'admin', password: on.adminPassword! });
      await (await fetch(back)).text();
    });
  const { code } = await p.exited;
  await signIn.catch(() => undefined);
  expect(code, p.stderr).toBe(0);
  return { code, stdout: p.stdout };
}

async function record(service: string, on: RunningGateway = gw): Promise<StoredCredentials> {
  return (await new FileTokenStore({ home }).list(`${on.url}/${service}/mcp`))[0]!;
}

/** A DPoP proof (RFC 9449 §4.2) signed with a key of the test's own. */
async function foreignProof(htm: string, htu: string, accessToken: string): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const ath = Buffer.from(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken)),
  ).toString('base64url');
  return new SignJWT({ htm, htu, jti: randomUUID(), ath })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
    .setIssuedAt()
    .sign(privateKey);
}

const ECHO_CALL = request2026('tools/call', { name: 'echo', arguments: { text: 'replayed' } });

function replay(url: string, headers: Record<string, string>) {
  // A 2026-07-28 request: it stands alone, no session to open first.
  return fetch(url, { method: 'POST', headers: { ...ECHO_CALL.headers, ...headers }, body: ECHO_CALL.body });
}

describe('rfc9449 end to end: mcp-streamablehttp-client with a DPoP-bound token from the gateway', () => {
  it('the CLI calls a stdio service and the fetch service with DPoP-bound tokens (token_type DPoP, cnf.jkt of the stored key)', async () => {
    const echo = await cli('fixture', ['tools', 'call', 'echo', 'text=bound through the gateway']);
    expect(echo.stdout).toContain('bound through the gateway');
    const fetched = await cli('fetch', [
      'tools',
      'call',
      'fetch',
      '--args',
      JSON.stringify({ url: `${page.url}/` }),
    ]);
    expect(fetched.stdout).toContain('Fetched with a DPoP-bound token.');

    for (const service of ['fixture', 'fetch'] as const) {
      const rec = await record(service);
      records[service] = rec;
      expect(rec.tokens?.token_type.toLowerCase()).toBe('dpop');
      const { d: _d, ...publicJwk } = rec.dpop_key!.jwk;
      expect(decodeJwt(rec.tokens!.access_token).cnf).toEqual({
        jkt: await calculateJwkThumbprint(publicJwk),
      });
      expect(rec.tokens?.refresh_token).toBeTruthy();
    }
  });

  it('the same token replayed without a proof, as Bearer, with another key or for another URL gets 401 and the RFC 9449 error', async () => {
    const url = `${gw.url}/fixture/mcp`;
    const token = records.fixture.tokens!.access_token;

    const noProof = await replay(url, { authorization: `DPoP ${token}` });
    expect(noProof.status).toBe(401);
    expect(noProof.headers.get('www-authenticate')).toMatch(/DPoP [^]*error="invalid_dpop_proof"/);

    const bearer = await replay(url, { authorization: `Bearer ${token}` });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

    const otherKey = await replay(url, {
      authorization: `DPoP ${token}`,
      dpop: await foreignProof('POST', url, token),
    });
    expect(otherKey.status).toBe(401);
    expect(otherKey.headers.get('www-authenticate')).toMatch(/error="invalid_(dpop_proof|token)"/);

    // Another URL: a proof for the fetch service's URL, presented at the stdio service.
    const rec = records.fixture;
    const key = await importJWK(rec.dpop_key!.jwk, 'ES256');
    const { kty, crv, x, y } = rec.dpop_key!.jwk as Record<string, string>;
    const publicJwk = { kty, crv, x, y };
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString(
      'base64url',
    );
    const proofFor = (htu: string) =>
      new SignJWT({ htm: 'POST', htu, jti: randomUUID(), ath })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk })
        .setIssuedAt()
        .sign(key);
    const elsewhere = await replay(url, {
      authorization: `DPoP ${token}`,
      dpop: await proofFor(`${gw.url}/fetch/mcp`),
    });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers.get('www-authenticate')).toMatch(/error="invalid_dpop_proof"/);

    // The control: the right key, the right URL passes, so the refusals above are the binding's.
    const right = await replay(url, { authorization: `DPoP ${token}`, dpop: await proofFor(url) });
    expect(right.status, right.headers.get('www-authenticate') ?? '').toBe(200);
    expect(await right.text()).toContain('replayed');
  });

  it("the DPoP-bound refresh token is refused at /token without the key's proof", async () => {
    const rec = records.fetch;
    const res = await fetch(`${gw.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: rec.tokens!.refresh_token!,
        client_id: rec.client!.client_id,
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^invalid_(dpop_proof|grant)$/);
  });
});

describe('rfc9449: the client makes its key with an algorithm the authorization server lists', () => {
  it('a gateway taking only ES384 proofs: the CLI makes an ES384 key, gets a token bound to it and calls the service', async () => {
    const cwd = tempDir();
    writeFetchAndFixtureConfig(cwd);
    appendFileSync(path.join(cwd, 'mcp-gateway.yaml'), 'authorization:\n  dpop:\n    algorithms: [ES384]\n');
    const es384 = await startGateway({ cwd });
    const meta = (await (await fetch(`${es384.url}/.well-known/oauth-authorization-server`)).json()) as {
      dpop_signing_alg_values_supported: string[];
    };
    expect(meta.dpop_signing_alg_values_supported).toEqual(['ES384']);
    const echo = await cli('fixture', ['tools', 'call', 'echo', 'text=bound with ES384'], es384);
    expect(echo.stdout).toContain('bound with ES384');
    const rec = await record('fixture', es384);
    expect(rec.dpop_key?.alg).toBe('ES384');
    expect(rec.dpop_key?.jwk).toMatchObject({ kty: 'EC', crv: 'P-384' });
    const { d: _d, ...publicJwk } = rec.dpop_key!.jwk;
    expect(decodeJwt(rec.tokens!.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(publicJwk) });
  });
});
