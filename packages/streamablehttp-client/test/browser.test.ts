/**
 * Opening the browser for real: the CLI runs as a child process and starts the
 * platform's opener without a shell, on Linux `xdg-open` from `PATH`. With no
 * desktop detected, xdg-open opens URLs with the commands in `$BROWSER` (its
 * documented hook), else with `www-browser`, `links2`, ... from `PATH`. The
 * tests put a small opener script there that records the URL it was given;
 * the test then follows that URL as the browser would.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllSpawned, waitFor } from '@mcp-gateway/testkit';
import { EXIT_CODES, FileTokenStore } from '../src/index.js';
import { openerCommand } from '../src/oauth/opener.js';
import { messagesOf, spawnClient } from './helpers/cli.js';
import { startServerWithAuthorizationEndpoint } from './helpers/fake-as.js';
import { followAuthorizationUrl } from './helpers/flow.js';
import { recordingOpener } from './helpers/opener.js';
import { startSdkOAuthServer } from './helpers/sdk-oauth-server.js';

const closers: Array<() => Promise<unknown>> = [];
const dirs: string[] = [];
afterEach(async () => {
  await killAllSpawned();
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});
async function tempDir(prefix: string) {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** No desktop session: xdg-open takes its generic path ($BROWSER, then PATH). */
const NO_DESKTOP: NodeJS.ProcessEnv = {
  DISPLAY: undefined,
  WAYLAND_DISPLAY: undefined,
  XDG_CURRENT_DESKTOP: undefined,
  DESKTOP_SESSION: undefined,
  KDE_FULL_SESSION: undefined,
  GNOME_DESKTOP_SESSION_ID: undefined,
  MATE_DESKTOP_SESSION_ID: undefined,
  BROWSER: undefined,
};

const INIT = {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'stdio-parent', version: '1' },
};

describe('browser opening (the system xdg-open, real child processes)', () => {
  it('browser: --oauth2 without --no-browser runs the opener with the sign-in URL; following it completes the login', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const home = await tempDir('mcp-client-browser-');
    const bin = await tempDir('mcp-client-opener-');
    const opened = path.join(bin, 'opened.txt');
    const opener = path.join(bin, 'test-browser');
    await fs.writeFile(opener, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`, { mode: 0o755 });

    const p = spawnClient(['--url', s.mcpUrl, '--oauth2', '--log-level', 'info'], {
      ...NO_DESKTOP,
      BROWSER: opener,
      MCP_STREAMABLEHTTP_CLIENT_HOME: home,
    });
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT }));
    const [, printed] = await p.waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr' });
    const recorded = await waitFor(async () => (await fs.readFile(opened, 'utf8').catch(() => '')).trim(), {
      message: 'the opener never ran',
    });
    const urls = recorded.split('\n');
    // The opener got exactly the printed URL, once, untouched by shell quoting.
    expect(urls).toEqual([printed]);
    const url = new URL(urls[0]!);
    expect(`${url.origin}${url.pathname}`).toBe(`${s.url}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(s.mcpUrl);

    // The "browser" follows what it was given; the bridge then answers initialize.
    const page = await followAuthorizationUrl(urls[0]!);
    expect(page.status).toBe(200);
    await p.waitForOutput(/"id":1[,}]/, { stream: 'stdout' });
    expect(messagesOf(p).find((m) => m.id === 1)).toMatchObject({
      result: { serverInfo: { name: 'test-http-server' } },
    });
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
    expect(p.stderr).toContain('"msg":"logged in"');
    expect(p.stderr).not.toContain('could not open a browser');
    expect(await new FileTokenStore({ home }).list(s.mcpUrl)).toHaveLength(1);
  });

  it('browser: with no opener on PATH the login falls back to the printed URL, says the browser could not be opened, and still completes', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const home = await tempDir('mcp-client-browser-');
    const emptyPath = await tempDir('mcp-client-no-opener-');

    const p = spawnClient(['login', '--url', s.mcpUrl], {
      ...NO_DESKTOP,
      PATH: emptyPath,
      MCP_STREAMABLEHTTP_CLIENT_HOME: home,
    });
    const [, printed] = await p.waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr' });
    await p.waitForOutput(/"msg":"could not open a browser; open the URL yourself".*spawn xdg-open ENOENT/, {
      stream: 'stderr',
    });
    const page = await followAuthorizationUrl(printed!);
    expect(page.status).toBe(200);
    const exit = await p.exited;
    expect(exit.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`logged in to ${s.mcpUrl}`);
    expect(await new FileTokenStore({ home }).list(s.mcpUrl)).toHaveLength(1);
  });
});

describe('secure URL opening (MCP 2026-07-28 security best practices: no shell)', () => {
  const url = 'https://as.example/authorize?a=1&b=$(touch /tmp/x)&c=`id`;d="e"';

  it('opener: each platform runs its opener directly, the URL one argument', () => {
    expect(openerCommand(url, 'darwin')).toEqual(['/usr/bin/open', [url]]);
    expect(openerCommand(url, 'linux')).toEqual(['xdg-open', [url]]);
    expect(openerCommand(url, 'freebsd')).toEqual(['xdg-open', [url]]);
    expect(openerCommand(url, 'win32', { SystemRoot: 'D:\\Win' })).toEqual([
      'D:\\Win\\System32\\rundll32.exe',
      ['url.dll,FileProtocolHandler', url],
    ]);
    expect(openerCommand(url, 'win32', {})[0]).toBe('C:\\Windows\\System32\\rundll32.exe');
  });

  it('opener: the CLI starts xdg-open from PATH itself, with the printed URL as its only argument', async () => {
    const s = await startServerWithAuthorizationEndpoint('{base}/authorize');
    closers.push(() => s.close());
    const opener = await recordingOpener(await tempDir('mcp-client-opener-'));
    const p = spawnClient(['login', '--url', `${s.url}/mcp`], {
      ...NO_DESKTOP,
      PATH: opener.dir,
      MCP_STREAMABLEHTTP_CLIENT_HOME: await tempDir('mcp-client-browser-'),
    });
    const [, printed] = await p.waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr' });
    // `xdg-open` (ours, on PATH) got one argument: the URL, `&` and all, as printed.
    expect(await opener.ran()).toEqual([{ program: 'xdg-open', args: [printed] }]);
    expect(printed).toContain('&');
  });

  it('authorization url: the CLI refuses a javascript: endpoint before registering, printing or opening (exit 3)', async () => {
    const s = await startServerWithAuthorizationEndpoint('javascript:alert(1)');
    closers.push(() => s.close());
    const opener = await recordingOpener(await tempDir('mcp-client-opener-'));
    // --auth-timeout: without the check the sign-in would wait for a browser; fail fast instead.
    const p = spawnClient(['login', '--url', `${s.url}/mcp`, '--auth-timeout', '3'], {
      ...NO_DESKTOP,
      PATH: opener.dir,
      BROWSER: opener.script,
      MCP_STREAMABLEHTTP_CLIENT_HOME: await tempDir('mcp-client-browser-'),
    });
    const exit = await p.exited;
    expect(exit.code, p.stderr).toBe(EXIT_CODES.auth);
    expect(p.stderr).toContain(
      `error: refusing to open the authorization_endpoint of ${s.url}/ "javascript:alert(1)": the javascript: scheme is not allowed`,
    );
    expect(p.stderr).not.toContain('To sign in');
    expect(s.registrations()).toBe(0);
    expect(await opener.calls()).toEqual([]);
  });
});
