import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllSpawned, listen } from '@mcp-gateway/testkit';
import { FileTokenStore } from '@mcp-gateway/streamablehttp-client';
import { client, clientWithBrowser, startStack, tempHome, type Stack } from './client-stack.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await killAllSpawned();
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(killAllSpawned);

async function stack(opts: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const s = await startStack(opts);
  cleanups.push(() => s.close());
  return s;
}
function home() {
  const h = tempHome();
  cleanups.push(() => h.remove());
  return h;
}

describe('mcp-streamablehttp-client against our authorization server and bridge', () => {
  it('login: the printed URL, followed by an HTTP client through the GitHub stub and consent, stores tokens; tools then work', async () => {
    const s = await stack();
    const h = home();
    const login = await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env);
    expect(login.code, login.p.stderr).toBe(0);
    expect(login.page?.status).toBe(200);
    expect(login.p.stdout).toContain(`logged in to ${s.mcpUrl}`);
    expect(login.p.stdout).toContain('subject:  github:583231');
    expect(s.github.requests.some((r) => r.path === '/login/oauth/access_token')).toBe(true);

    const call = client(['tools', 'call', 'echo', 'text=hello from e2e', '--url', s.mcpUrl], h.env);
    expect((await call.exited).code, call.stderr).toBe(0);
    expect(call.stdout).toBe('hello from e2e\n');

    const status = client(['status', '--url', s.mcpUrl, '--json'], h.env);
    await status.exited;
    expect(JSON.parse(status.stdout)).toMatchObject({
      loggedIn: true,
      issuer: s.url,
      resource: s.mcpUrl,
      clientSource: 'dcr',
      hasRefreshToken: true,
      claims: { sub: 'github:583231', aud: s.mcpUrl },
    });
    const files = await fs.readdir(path.join(h.dir, 'credentials'));
    expect((await fs.stat(path.join(h.dir, 'credentials', files[0]!))).mode & 0o777).toBe(0o600);
  });

  it('refresh across two concurrent processes: our AS sees one refresh grant and no reuse', async () => {
    const s = await stack();
    const h = home();
    expect((await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env)).code).toBe(0);
    const store = new FileTokenStore({ home: h.dir });
    const rec = (await store.list(s.mcpUrl))[0]!;
    await store.set({ ...rec, tokens: { ...rec.tokens!, expires_at: Date.now() - 1000 } });
    const procs = [0, 1].map(() => client(['tools', 'list', '--url', s.mcpUrl], h.env));
    const codes = (await Promise.all(procs.map((p) => p.exited))).map((e) => e.code);
    expect(codes, procs.map((p) => p.stderr).join('\n')).toEqual([0, 0]);
    expect(s.audit.filter((a) => a.type === 'token.refreshed')).toHaveLength(1);
    expect(s.audit.filter((a) => a.type === 'refresh.reuse_detected')).toHaveLength(0);
    const after = (await store.list(s.mcpUrl))[0]!.tokens!;
    expect(after.refresh_token).not.toBe(rec.tokens!.refresh_token);
  });

  it('step-up: tools/call needing mcp:write gets 403 insufficient_scope; the client signs in again for both scopes', async () => {
    const s = await stack({ toolsCallScopes: ['mcp:write'] });
    const h = home();
    expect(
      (await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser', '--scope', 'mcp:read'], h.env))
        .code,
    ).toBe(0);
    const list = client(['tools', 'list', '--url', s.mcpUrl], h.env);
    expect((await list.exited).code).toBe(0);
    // Without --oauth2 the client may not start a sign-in: a clear auth failure.
    const refused = client(['tools', 'call', 'echo', 'text=x', '--url', s.mcpUrl], h.env);
    expect((await refused.exited).code).toBe(3);
    expect(refused.stderr).toMatch(/the server needs more scopes \(mcp:read mcp:write\)/);
    const stepped = await clientWithBrowser(
      ['tools', 'call', 'echo', 'text=stepped up', '--oauth2', '--no-browser', '--url', s.mcpUrl],
      h.env,
    );
    expect(stepped.code, stepped.p.stderr).toBe(0);
    expect(stepped.p.stdout).toBe('stepped up\n');
    const rec = (await new FileTokenStore({ home: h.dir }).list(s.mcpUrl))[0]!;
    expect(rec.tokens!.scope!.split(' ').sort()).toEqual(['mcp:read', 'mcp:write']);
  });

  it('step-up beyond the registered scope: the registration is widened with RFC 7592, not replaced', async () => {
    const s = await stack({ toolsCallScopes: ['mcp:write'] });
    const h = home();
    expect(
      (await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser', '--scope', 'mcp:read'], h.env))
        .code,
    ).toBe(0);
    const narrow = client(['client', 'update', 'scope=mcp:read', '--url', s.mcpUrl, '--json'], h.env);
    expect((await narrow.exited).code, narrow.stderr).toBe(0);
    const clientId = (JSON.parse(narrow.stdout) as { client_id: string }).client_id;
    const stepped = await clientWithBrowser(
      ['tools', 'call', 'echo', 'text=wider', '--oauth2', '--no-browser', '--url', s.mcpUrl],
      h.env,
    );
    expect(stepped.code, stepped.p.stderr).toBe(0);
    expect(stepped.p.stdout).toBe('wider\n');
    const registered = await s.as.clients.get(clientId);
    expect((registered as { metadata: { scope: string } }).metadata.scope.split(' ').sort()).toEqual([
      'mcp:read',
      'mcp:write',
    ]);
    expect(s.audit.filter((a) => a.type === 'client.registered')).toHaveLength(1);
  });

  it('rfc7592: a denied sign-in deletes the client it registered; nothing is stored; the next sign-in registers once', async () => {
    const s = await stack();
    const h = home();
    const denied = await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env, 'deny');
    expect(denied.code).not.toBe(0);
    expect(denied.p.stderr).toMatch(/access_denied/);
    const registered = s.audit.filter((a) => a.type === 'client.registered');
    expect(registered).toHaveLength(1);
    const clientId = String(registered[0]!.clientId);
    expect(await s.as.clients.get(clientId)).toBeUndefined();
    expect(s.audit.filter((a) => a.type === 'client.deleted').map((a) => a.clientId)).toEqual([clientId]);
    expect(await new FileTokenStore({ home: h.dir }).list(s.mcpUrl)).toEqual([]);

    const ok = await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env);
    expect(ok.code, ok.p.stderr).toBe(0);
    expect(s.audit.filter((a) => a.type === 'client.registered')).toHaveLength(2);
    const rec = (await new FileTokenStore({ home: h.dir }).list(s.mcpUrl))[0]!;
    expect(await s.as.clients.get(rec.client!.client_id)).toBeDefined();
  });

  it('rfc7592: client info / update / delete with the stored registration token against our AS', async () => {
    const s = await stack();
    const h = home();
    expect((await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env)).code).toBe(0);
    const info = client(['client', 'info', '--url', s.mcpUrl, '--json'], h.env);
    expect((await info.exited).code, info.stderr).toBe(0);
    const before = JSON.parse(info.stdout) as { client_id: string; client_name: string };
    expect(before.client_name).toBe('mcp-streamablehttp-client');

    const update = client(['client', 'update', 'client_name=My laptop', '--url', s.mcpUrl, '--json'], h.env);
    expect((await update.exited).code, update.stderr).toBe(0);
    expect(JSON.parse(update.stdout)).toMatchObject({
      client_id: before.client_id,
      client_name: 'My laptop',
    });
    expect(await s.as.clients.get(before.client_id)).toMatchObject({
      metadata: { client_name: 'My laptop' },
    });

    const del = client(['client', 'delete', '--url', s.mcpUrl], h.env);
    expect((await del.exited).code, del.stderr).toBe(0);
    expect(await s.as.clients.get(before.client_id)).toBeUndefined();
    expect(await new FileTokenStore({ home: h.dir }).list(s.mcpUrl)).toEqual([]);
    // The next sign-in registers a new client.
    const again = await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env);
    expect(again.code, again.p.stderr).toBe(0);
    const rec = (await new FileTokenStore({ home: h.dir }).list(s.mcpUrl))[0]!;
    expect(rec.client!.client_id).not.toBe(before.client_id);
  });

  it('CIMD: with --client-metadata-url and an AS that supports it, the document URL is the client_id (no registration)', async () => {
    const s = await stack({ cimdLoopback: true });
    const h = home();
    const probe = await listen(() => new Response(''));
    const port = probe.port;
    await probe.close();
    const doc = await listen((req) =>
      Response.json({
        client_id: req.url,
        client_name: 'CIMD e2e client',
        redirect_uris: [`http://127.0.0.1:${port}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    );
    cleanups.push(() => doc.close());
    const docUrl = `${doc.url}/client.json`;
    const r = await clientWithBrowser(
      [
        'login',
        '--url',
        s.mcpUrl,
        '--no-browser',
        '--client-metadata-url',
        docUrl,
        '--callback-port',
        String(port),
      ],
      h.env,
    );
    expect(r.code, r.p.stderr).toBe(0);
    const rec = (await new FileTokenStore({ home: h.dir }).list(s.mcpUrl))[0]!;
    expect(rec.client).toMatchObject({ client_id: docUrl, source: 'cimd' });
    expect(s.audit.filter((a) => a.type === 'client.registered')).toHaveLength(0);
  });

  it('doctor: our stack passes; a broken one (401 without a challenge, no registration) fails with exit 1', async () => {
    const good = await stack();
    const ok = client(['doctor', '--url', good.mcpUrl], {});
    expect((await ok.exited).code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('✔ issuer equality');
    expect(ok.stdout).toContain('✔ dynamic client registration open');

    const broken = await stack({ broken: true });
    const bad = client(['doctor', '--url', broken.mcpUrl, '--json'], {});
    expect((await bad.exited).code).toBe(1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; checks: Array<{ id: string; status: string }> };
    expect(report.ok).toBe(false);
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(status).toMatchObject({ challenge: 'fail', 'json-errors': 'warn', registration: 'fail' });
  });
});
