import { listen, killAllSpawned, spawnCli, type Listening } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { clientCli, loginAndConsent, startGateway, tempDir } from './gateway-helpers.js';

let page: Listening;
afterAll(async () => {
  await killAllSpawned();
  await page?.close();
});

describe("a newcomer's path: the gateway with no config, then mcp-streamablehttp-client", () => {
  it('logs in once through the printed URL, fetches a local page, and after a gateway restart calls again without logging in', async () => {
    page = await listen((req) =>
      new URL(req.url).pathname === '/page'
        ? new Response(
            '<html><head><title>Local</title></head><body><main><h1>Hello from the local page</h1><p>The gateway fetched this paragraph for a newcomer.</p></main></body></html>',
            {
              headers: { 'content-type': 'text/html; charset=utf-8' },
            },
          )
        : new Response('not found', { status: 404 }),
    );
    const cwd = tempDir();
    const clientHome = tempDir('gw-client-');
    // The fetch service refuses loopback by default; the env override lets it reach our page.
    const env = { MCP_GATEWAY__SERVICES__FETCH__ALLOW_HOSTS: '127.0.0.1' };
    const gw = await startGateway({ cwd, env });
    expect(gw.adminPassword).toMatch(/^\S{16,}$/);
    expect(gw.cli.stderr).toContain(
      `npx -y @mcp-gateway/streamablehttp-client login --url ${gw.url}/fetch/mcp`,
    );

    const callFetch = () =>
      spawnCli(
        process.execPath,
        [
          clientCli,
          'tools',
          'call',
          'fetch',
          '--args',
          JSON.stringify({ url: `${page.url}/page` }),
          '--url',
          `${gw.url}/fetch/mcp`,
          '--oauth2',
          '--no-browser',
        ],
        { env: { MCP_STREAMABLEHTTP_CLIENT_HOME: clientHome } },
      );

    const first = callFetch();
    const [, authorizeUrl] = await first.waitForOutput(/To sign in, open: (\S+)/, {
      stream: 'stderr',
      timeoutMs: 30_000,
    });
    const back = await loginAndConsent(authorizeUrl!, { username: 'admin', password: gw.adminPassword! });
    expect(back.searchParams.get('code')).toBeTruthy();
    expect(back.searchParams.get('iss')).toBe(gw.url);
    // Deliver the code to the client's loopback callback, as the browser would.
    const delivered = await fetch(back);
    expect(delivered.status).toBeLessThan(400);
    const done = await first.exited;
    expect(done.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('The gateway fetched this paragraph for a newcomer.');

    // Restart the gateway on the same port and data folder: keys, client and grants survive.
    await gw.cli.kill();
    const again = await startGateway({ cwd, env, port: gw.port });
    expect(again.adminPassword).toBeUndefined();
    const second = callFetch();
    const done2 = await second.exited;
    expect(done2.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('The gateway fetched this paragraph for a newcomer.');
    expect(second.stderr).not.toContain('To sign in');
    await again.cli.kill();
  }, 120_000);

  it('doctor: passes against the defaults, with CORS for a browser origin reported on its own', async () => {
    const doctor = async (url: string, extra: string[] = []) => {
      const p = spawnCli(process.execPath, [clientCli, 'doctor', '--url', url, '--json', ...extra], {
        env: { MCP_STREAMABLEHTTP_CLIENT_HOME: tempDir('gw-client-') },
      });
      const { code } = await p.exited;
      const report = JSON.parse(p.stdout) as { ok: boolean; checks: { id: string; status: string }[] };
      return { code, report, status: Object.fromEntries(report.checks.map((c) => [c.id, c.status])) };
    };
    const gw = await startGateway({ cwd: tempDir() });
    const plain = await doctor(`${gw.url}/fetch/mcp`);
    expect(plain.code).toBe(0);
    expect(plain.status).toMatchObject({
      challenge: 'pass',
      'resource-metadata': 'pass',
      issuer: 'pass',
      pkce: 'pass',
      registration: 'pass',
      // The gateway allows no browser origin by default: a warning, not a failure.
      'cors-origin': 'warn',
    });

    const open = await startGateway({
      cwd: tempDir(),
      env: { MCP_GATEWAY__CORS__ORIGINS: 'http://localhost:6274' },
    });
    const allowed = await doctor(`${open.url}/fetch/mcp`, ['--origin', 'http://localhost:6274']);
    expect(allowed.code).toBe(0);
    expect(allowed.status).toMatchObject({ 'cors-origin': 'pass', 'cors-expose': 'pass' });
    const other = await doctor(`${open.url}/fetch/mcp`, ['--origin', 'https://evil.example']);
    expect([other.code, other.status['cors-origin']]).toEqual([0, 'warn']);
  });
});
