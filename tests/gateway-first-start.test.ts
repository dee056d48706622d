// A newcomer's first start: the port, the banner, the commands it prints, the landing page.
import { createServer, type Server } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { chromiumLaunchOptions, killAllSpawned, spawnCli, waitForUrl } from '@mcp-gateway/testkit';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, gatewayCli, loginAndConsent, repoRoot, startGateway, tempDir } from './gateway-helpers.js';

afterAll(async () => {
  await killAllSpawned();
});

/** Holds a port the way another program would. */
async function occupy(port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return s;
}

/** The command lines printed under a banner heading, as argv (npx …), and the JSON block after them. */
function bannerCommands(stderr: string): {
  login: string[];
  passwd: string[];
  desktop: { command: string; args: string[] };
} {
  const login = /connect, first sign in[^\n]*\n\s+(npx [^\n]+)/.exec(stderr)![1]!.split(' ');
  const passwd = /Change it: (npx [^\n]+)/.exec(stderr)![1]!.split(' ');
  const json = /claude_desktop_config\.json\):\n((?: {4}[^\n]*\n)+)/.exec(stderr)![1]!;
  const entry = JSON.parse(json) as { mcpServers: Record<string, { command: string; args: string[] }> };
  return { login, passwd, desktop: Object.values(entry.mcpServers)[0]! };
}

describe('first start', () => {
  it('a busy port: one line naming how to pick another, exit 1, and no admin user created', async () => {
    const port = await freePort();
    const held = await occupy(port);
    const cwd = tempDir();
    try {
      const p = spawnCli(process.execPath, [gatewayCli, '--port', String(port)], { cwd });
      const { code } = await p.exited;
      expect(code).toBe(1);
      expect(p.stderr.trim().split('\n')).toEqual([
        `cannot listen on 127.0.0.1:${port}: the port is in use. Pick another with --port N (or PORT=N, MCP_GATEWAY__LISTEN__PORT=N, listen.port in the config).`,
      ]);
      expect(p.stderr).not.toMatch(/\n\s+at /);
    } finally {
      held.close();
    }
    // Nobody was created, so the next start (on a free port) still shows the password.
    const again = await startGateway({ cwd });
    expect(again.adminPassword).toMatch(/^\S{16,}$/);
  });

  it('PORT is honoured; --port and --host override it', async () => {
    const [fromEnv, fromFlag] = [await freePort(), await freePort()];
    const a = spawnCli(process.execPath, [gatewayCli], { cwd: tempDir(), env: { PORT: String(fromEnv) } });
    await a.waitForOutput(new RegExp(`listening on http://127\\.0\\.0\\.1:${fromEnv}`), {
      timeoutMs: 30_000,
    });
    const b = spawnCli(process.execPath, [gatewayCli, '--host', 'localhost', '--port', String(fromFlag)], {
      cwd: tempDir(),
      env: { PORT: String(fromEnv) },
    });
    await b.waitForOutput(/listening on http:\/\/\S+/, { timeoutMs: 30_000 });
    expect(b.stderr).toContain(`issuer:         http://localhost:${fromFlag}`);
    await waitForUrl(`http://127.0.0.1:${fromFlag}/healthz`);
  });

  it("the banner's commands work as printed from this checkout: login, the Claude Desktop entry, users passwd", async () => {
    // As after `npm start`: the gateway runs in the checkout (its data in a temp folder here).
    const cwd = repoRoot;
    const dataEnv = { MCP_GATEWAY__DATA_DIR: tempDir('gw-data-') };
    const gw = await startGateway({ cwd, env: dataEnv });
    const cmds = bannerCommands(gw.cli.stderr);
    const home = tempDir('gw-client-');
    // BROWSER=true: the opener "opens" nothing; the client prints the URL, which we follow like a browser.
    const env = { MCP_STREAMABLEHTTP_CLIENT_HOME: home, BROWSER: 'true' };
    expect(cmds.login.slice(0, 3)).toEqual(['npx', '-y', '@mcp-gateway/streamablehttp-client']);
    const login = spawnCli(cmds.login[0]!, cmds.login.slice(1), { cwd: repoRoot, env });
    const [, url] = await login.waitForOutput(/To sign in, open: (\S+)/, {
      stream: 'stderr',
      timeoutMs: 60_000,
    });
    const back = await loginAndConsent(url!, { username: 'admin', password: gw.adminPassword! });
    expect((await fetch(back)).status).toBeLessThan(400);
    expect((await login.exited).code, login.stderr).toBe(0);

    // What Claude Desktop would start: a stdio bridge that is already signed in.
    const desktop = spawnCli(cmds.desktop.command, cmds.desktop.args, { cwd: repoRoot, env });
    desktop.writeLine(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'desktop', version: '1' },
        },
      }),
    );
    await desktop.waitForOutput(/"id":1,"result"/, { timeoutMs: 60_000 });
    desktop.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    desktop.writeLine(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    await desktop.waitForOutput(/"id":2,"result":\{"tools":\[\{[^\n]*"name":"fetch"/, { timeoutMs: 30_000 });
    await desktop.kill();

    // The printed password command sets a new password the running gateway accepts.
    expect(cmds.passwd.slice(0, 3)).toEqual(['npx', '-y', '@mcp-gateway/gateway-kit']);
    const passwd = spawnCli(cmds.passwd[0]!, [...cmds.passwd.slice(1), '--password', 'a-new-password-123'], {
      cwd,
      env: dataEnv,
    });
    expect((await passwd.exited).code, passwd.stderr).toBe(0);
    const relogin = spawnCli(cmds.login[0]!, [...cmds.login.slice(1)], {
      cwd: repoRoot,
      env: { ...env, MCP_STREAMABLEHTTP_CLIENT_HOME: tempDir('gw-client-') },
    });
    const [, url2] = await relogin.waitForOutput(/To sign in, open: (\S+)/, {
      stream: 'stderr',
      timeoutMs: 60_000,
    });
    await loginAndConsent(url2!, { username: 'admin', password: 'a-new-password-123' });
    await relogin.kill();

    // A later start says how to reset a lost password instead of showing one.
    await gw.cli.kill();
    const later = await startGateway({ cwd, env: dataEnv });
    expect(later.adminPassword).toBeUndefined();
    expect(later.cli.stderr).toContain('lost a password? npx -y @mcp-gateway/gateway-kit users passwd admin');
  });

  it('a terminal gets readable lines and no line per request unless logging.level is debug', async () => {
    const gw = await startGateway({
      env: { MCP_GATEWAY__LOGGING__LEVEL: 'info', MCP_GATEWAY__LOGGING__FORMAT: 'pretty' },
    });
    for (let i = 0; i < 5; i++) await (await fetch(`${gw.url}/healthz`)).text();
    const json = await startGateway({ env: { MCP_GATEWAY__LOGGING__LEVEL: 'info' } });
    await (await fetch(`${json.url}/healthz`)).text();
    await json.cli.waitForOutput(/"msg":"request"/, { stream: 'stdout', timeoutMs: 10_000 });
    // The pretty gateway logged its start-up line but no request line, and nothing as JSON.
    await gw.cli.kill();
    expect(gw.cli.stdout).toMatch(/INFO: shutting down/);
    expect(gw.cli.stdout).not.toMatch(/INFO: request\b/);
    expect(gw.cli.stdout).not.toMatch(/^\{/m);
  });
});

describe('the landing page', () => {
  it('/ in Chromium shows the open services, how to connect, and leads to sign-in', async () => {
    const gw = await startGateway();
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      const res = await page.goto(`${gw.url}/`);
      expect(res?.status()).toBe(200);
      const text = await page.locator('main').innerText();
      expect(text).toContain(`${gw.url}/fetch/mcp`);
      expect(text).toContain(`npx -y @mcp-gateway/streamablehttp-client login --url ${gw.url}/fetch/mcp`);
      expect(text).toContain('claude_desktop_config.json');
      await page.getByRole('link', { name: /sign in and see your connected apps/i }).click();
      await page.waitForURL(/\/(login|authorize|account)/);
      expect(await page.locator('input[name="password"]').count()).toBe(1);
      // Non-browsers keep the JSON 404 of any unknown path.
      const api = await fetch(`${gw.url}/`, { headers: { accept: 'application/json' } });
      expect([api.status, ((await api.json()) as { error: string }).error]).toEqual([404, 'not_found']);
    } finally {
      await browser.close();
    }
  });

  it('services restricted to some users are not listed on the public landing page', async () => {
    const cwd = tempDir();
    const gw = await startGateway({
      cwd,
      env: {
        MCP_GATEWAY__SERVICES__SECRET__TYPE: 'fetch',
        MCP_GATEWAY__SERVICES__SECRET__USERS: '["local:alice"]',
        MCP_GATEWAY__SERVICES__FETCH__TYPE: 'fetch',
      },
    });
    const html = await (await fetch(`${gw.url}/`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain(`${gw.url}/fetch/mcp`);
    expect(html).not.toContain('/secret/mcp');
    expect(existsSync(path.join(cwd, '.mcp-gateway'))).toBe(true);
    expect(readdirSync(path.join(cwd, '.mcp-gateway')).length).toBeGreaterThan(0);
  });
});
