import { promises as fs } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { FileTokenStore, type StoredCredentials } from '@mcp-gateway/streamablehttp-client';
import { client, clientWithBrowser, perTestStacks, type Stack, type StackOptions } from './client-stack.js';

// Issue 19, client side: our CLI against our authorization server (DPoP on) guarding our
// bridge with `requireBearer`, which checks DPoP proofs (RFC 9449).
const fixtures = perTestStacks();

interface Exchange {
  method: string;
  path: string;
  status: number;
  authorization: string | null;
  dpop: string | null;
  nonceAsked: boolean;
}

async function stack(opts: StackOptions = {}): Promise<Stack & { log: Exchange[] }> {
  const log: Exchange[] = [];
  const s = await fixtures.stack({
    ...opts,
    onExchange: (req, res) =>
      void log.push({
        method: req.method,
        path: new URL(req.url).pathname,
        status: res.status,
        authorization: req.headers.get('authorization'),
        dpop: req.headers.get('dpop'),
        nonceAsked: res.headers.has('dpop-nonce') && res.status >= 400,
      }),
  });
  return { ...s, log };
}

const home = () => fixtures.home();

async function record(dir: string, url: string): Promise<StoredCredentials> {
  return (await new FileTokenStore({ home: dir }).list(url))[0]!;
}

const proofClaims = (proof: string | null) => decodeJwt(proof!);

describe('rfc9449 (DPoP): mcp-streamablehttp-client against our authorization server and requireBearer', () => {
  it('rfc9449 §5, §7: on by default where advertised; the token is DPoP-bound to the stored key (0600) and every MCP request carries "Authorization: DPoP" and a fresh proof with ath', async () => {
    const s = await stack();
    const h = home();
    const login = await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env);
    expect(login.code, login.p.stderr).toBe(0);
    const rec = await record(h.dir, s.mcpUrl);
    expect(rec.tokens?.token_type.toLowerCase()).toBe('dpop');
    expect(rec.dpop_key?.alg).toBe('ES256');
    const { d: _d, ...publicJwk } = rec.dpop_key!.jwk;
    const jkt = await calculateJwkThumbprint(publicJwk);
    expect(decodeJwt(rec.tokens!.access_token).cnf).toEqual({ jkt });
    const files = await fs.readdir(path.join(h.dir, 'credentials'));
    expect((await fs.stat(path.join(h.dir, 'credentials', files[0]!))).mode & 0o777).toBe(0o600);
    const token = s.log.find((e) => e.path === '/token' && e.status === 200)!;
    expect(token.dpop).toBeTruthy();
    const authorize = login.p.stderr.match(/To sign in, open: (\S+)/)![1]!;
    expect(new URL(authorize).searchParams.get('dpop_jkt')).toBe(jkt);

    const status = client(['status', '--url', s.mcpUrl, '--json'], h.env);
    await status.exited;
    expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: true, tokenType: 'DPoP' });

    const call = client(['tools', 'call', 'echo', 'text=bound', '--url', s.mcpUrl], h.env);
    expect((await call.exited).code, call.stderr).toBe(0);
    expect(call.stdout).toBe('bound\n');
    const mcp = s.log.filter((e) => e.path === '/mcp' && e.authorization);
    expect(mcp.length).toBeGreaterThan(1);
    expect(mcp.every((e) => e.authorization!.startsWith('DPoP ') && e.status < 400)).toBe(true);
    const proofs = mcp.map((e) => proofClaims(e.dpop));
    expect(new Set(proofs.map((p) => p.jti)).size).toBe(proofs.length);
    expect(proofs.every((p) => p.htu === s.mcpUrl && typeof p.ath === 'string')).toBe(true);

    // The server side of the binding: the same token as Bearer is refused.
    const replay = await fetch(s.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${rec.tokens!.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(replay.status).toBe(401);
  });

  it('rfc9449 §8, §9: nonces at the token endpoint and at the resource are answered with a retry carrying the nonce', async () => {
    const s = await stack({ dpop: { nonce: true } });
    const h = home();
    const login = await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env);
    expect(login.code, login.p.stderr).toBe(0);
    expect(s.log.some((e) => e.path === '/token' && e.nonceAsked)).toBe(true);
    const issued = s.log.filter((e) => e.path === '/token' && e.status === 200);
    expect(issued).toHaveLength(1);
    expect(proofClaims(issued[0]!.dpop).nonce).toBeTruthy();

    const call = client(['tools', 'call', 'echo', 'text=nonce', '--url', s.mcpUrl], h.env);
    expect((await call.exited).code, call.stderr).toBe(0);
    expect(call.stdout).toBe('nonce\n');
    const mcp = s.log.filter((e) => e.path === '/mcp' && e.authorization);
    expect(mcp.some((e) => e.nonceAsked)).toBe(true);
    const ok = mcp.filter((e) => e.status < 400);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.every((e) => proofClaims(e.dpop).nonce)).toBe(true);
    // One nonce challenge per origin and process: the remembered nonce serves the requests after it.
    expect(mcp.filter((e) => e.nonceAsked).length).toBeLessThan(ok.length);
  });

  it('rfc9449 §5: after a restart the DPoP-bound refresh token is refreshed with the same stored key', async () => {
    const s = await stack({ dpop: { nonce: true } });
    const h = home();
    expect((await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env)).code).toBe(0);
    const before = await record(h.dir, s.mcpUrl);
    expect(before.tokens?.refresh_token).toBeTruthy();
    // The access token has expired by the next start: a new process refreshes, then calls.
    await new FileTokenStore({ home: h.dir }).set({
      ...before,
      tokens: { ...before.tokens!, expires_at: Date.now() - 1000 },
    });
    const call = client(['tools', 'call', 'echo', 'text=again', '--url', s.mcpUrl], h.env);
    expect((await call.exited).code, call.stderr).toBe(0);
    expect(call.stdout).toBe('again\n');
    expect(s.audit.filter((a) => a.type === 'token.refreshed')).toHaveLength(1);
    const after = await record(h.dir, s.mcpUrl);
    expect(after.tokens!.access_token).not.toBe(before.tokens!.access_token);
    expect(after.tokens!.token_type.toLowerCase()).toBe('dpop');
    expect(after.dpop_key).toEqual(before.dpop_key);
    expect(decodeJwt(after.tokens!.access_token).cnf).toEqual(decodeJwt(before.tokens!.access_token).cnf);
  });

  it('rfc9449 §7.1: a DPoP-bound token whose key is gone is never sent as Bearer', async () => {
    const s = await stack();
    const h = home();
    expect((await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env)).code).toBe(0);
    const rec = await record(h.dir, s.mcpUrl);
    const { dpop_key: _key, ...keyless } = rec;
    await new FileTokenStore({ home: h.dir }).set(keyless);
    const call = client(['tools', 'list', '--url', s.mcpUrl], h.env);
    expect((await call.exited).code).toBe(3);
    expect(call.stderr).toContain('no stored key');
    expect(s.log.filter((e) => e.path === '/mcp' && e.authorization)).toEqual([]);
  });

  it('--no-dpop: Bearer tokens, no proofs, even where the server advertises DPoP', async () => {
    const s = await stack();
    const h = home();
    const login = await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser', '--no-dpop'], h.env);
    expect(login.code, login.p.stderr).toBe(0);
    const rec = await record(h.dir, s.mcpUrl);
    expect(rec.tokens?.token_type.toLowerCase()).toBe('bearer');
    expect(rec.dpop_key).toBeUndefined();
    const call = client(['tools', 'list', '--url', s.mcpUrl, '--no-dpop'], h.env);
    expect((await call.exited).code, call.stderr).toBe(0);
    expect(s.log.filter((e) => e.dpop)).toEqual([]);
    expect(s.log.filter((e) => e.authorization?.startsWith('Bearer ')).length).toBeGreaterThan(0);
  });
});
