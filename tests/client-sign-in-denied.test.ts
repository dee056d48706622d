/**
 * The real `mcp-streamablehttp-client` (a child process) signs in through our authorization
 * server in headless Chromium, and the user refuses at the identity provider: the CLI must
 * hear it through its loopback callback (RFC 8252 §7.3) and fail at once with the OAuth
 * error, not wait for `--auth-timeout`.
 */
import { chromiumLaunchOptions, type SpawnedCli } from '@mcp-gateway/testkit';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTokenStore } from '@mcp-gateway/streamablehttp-client';
import { client, INIT_PARAMS, perTestStacks, rpc, type Stack } from './client-stack.js';

const { stack, home } = perTestStacks();
let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch(chromiumLaunchOptions());
});
afterAll(async () => {
  await browser?.close();
});

/** How long the CLI may take to give up once the browser reached its callback (the auth timeout is 120 s). */
const PROMPT_MS = 10_000;

/** Resolves with `p` when it settles within {@link PROMPT_MS}, else with `'too late'`. */
const promptly = <T>(p: Promise<T>) =>
  Promise.race([p, new Promise<'too late'>((resolve) => setTimeout(() => resolve('too late'), PROMPT_MS))]);

/**
 * Opens the sign-in URL `cli` printed in Chromium, allows the app on the gateway's consent
 * page and clicks Cancel on the identity provider's consent page (the GitHub stub's "Authorize application"). Checks that the
 * browser went straight to the CLI's loopback callback with `error`, the CLI's `state` and
 * our `iss`, and that the CLI's page says the sign-in failed with the OAuth error and that
 * the tab may be closed.
 */
async function denyInChromium(s: Stack, cli: SpawnedCli): Promise<void> {
  s.github.autoApprove = false;
  const [, url] = await cli.waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr' });
  const request = new URL(url!).searchParams;
  const redirectUri = request.get('redirect_uri')!;
  expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url!);
    // The gateway's own consent page comes first (a self-registered client, a third-party
    // provider); the user allows the app there and refuses at GitHub.
    expect(await page.textContent('#sign-in-next')).toMatch(/sign in with GitHub next/);
    await Promise.all([page.waitForURL(`${s.github.url}/**`), page.click('#approve')]);
    expect(await page.textContent('h1')).toBe('Authorize application');
    await Promise.all([
      page.waitForURL(`${redirectUri}?**`, { timeout: PROMPT_MS }),
      page.click('button[value="deny"]'),
    ]);
    const back = new URL(page.url()).searchParams;
    expect(back.get('error')).toBe('access_denied');
    expect(back.get('state')).toBe(request.get('state'));
    expect(back.get('iss')).toBe(s.url);
    expect(await page.title()).toBe('Sign-in failed');
    const text = (await page.textContent('body'))!;
    expect(text).toContain('access_denied');
    expect(text).toContain('You can close this tab');
  } finally {
    await context.close();
  }
}

describe('mcp-streamablehttp-client --oauth2: the user refuses the sign-in in the browser', () => {
  it('a one-shot command: the CLI callback page says the sign-in failed; the CLI exits 3 at once naming access_denied; nothing stored', async () => {
    const s = await stack();
    const h = home();
    const cli = client(
      ['tools', 'list', '--url', s.mcpUrl, '--oauth2', '--no-browser', '--auth-timeout', '120'],
      h.env,
    );
    await denyInChromium(s, cli);
    expect(await promptly(cli.exited), cli.stderr).toEqual({ code: 3, signal: null });
    expect(cli.stderr).toMatch(
      /^error: sign-in failed: the authorization server answered access_denied \(the user denied the request\)$/m,
    );
    expect(await new FileTokenStore({ home: h.dir }).list(s.mcpUrl)).toEqual([]);
    expect(s.audit.some((a) => a.type === 'login.failed' && a.reason === 'denied')).toBe(true);
  });

  it('bridge mode (no command): the host hears at once, as a -32001 answer to initialize naming access_denied; no second sign-in is started', async () => {
    const s = await stack();
    const h = home();
    const cli = client(['--url', s.mcpUrl, '--oauth2', '--no-browser', '--auth-timeout', '120'], h.env);
    const answer = rpc(cli, { id: 1, method: 'initialize', params: INIT_PARAMS }, 120_000);
    await denyInChromium(s, cli);
    const reply = await promptly(answer);
    expect(reply).toMatchObject({
      id: 1,
      error: {
        code: -32001,
        message: expect.stringContaining('access_denied (the user denied the request)'),
        data: { kind: 'auth', code: 'access_denied' },
      },
    });
    // The refusal came during the startup probe: the host's initialize is answered with it,
    // not sent on to sign in again (another browser tab the user did not ask for).
    expect(cli.stderr.match(/To sign in, open:/g)).toHaveLength(1);
    expect(s.audit.filter((a) => a.type === 'client.registered')).toHaveLength(1);
    expect(await new FileTokenStore({ home: h.dir }).list(s.mcpUrl)).toEqual([]);
    await cli.kill();
  });
});
