import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { chromiumLaunchOptions } from '@mcp-gateway/testkit';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The end-to-end tests' helpers: the gateway as a real child process on a free port, ready at /healthz.
import { freePort, startGateway, type RunningGateway } from '../../tests/gateway-helpers.js';
import { node22, runSuite, suiteEntry } from './suite.js';

let gw: RunningGateway | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  [gw, browser] = await Promise.all([startGateway(), chromium.launch(chromiumLaunchOptions())]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await gw?.cli.kill();
  if (gw) await rm(gw.cwd, { recursive: true, force: true });
});

/**
 * Plays the user at the authorization URL the suite prints: the gateway's login page
 * (the admin's password), then its consent page, in Chromium, until the gateway
 * redirects to the suite's callback on `callbackPort`.
 */
async function signInAndApprove(authorizeUrl: string, callbackPort: number): Promise<void> {
  const context = await browser!.newContext();
  try {
    const page = await context.newPage();
    await page.goto(authorizeUrl);
    await page.fill('#username', 'admin');
    await page.fill('#password', gw!.adminPassword!);
    await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
    await Promise.all([
      page.waitForURL(`http://127.0.0.1:${callbackPort}/callback?**`),
      page.click('#approve'),
    ]);
  } finally {
    await context.close();
  }
}

/** Authorization-server scenarios conformance-next lists, all of them or those applying at `specVersion`. */
async function authorizationScenarios(specVersion?: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(node22, [
    suiteEntry('conformance-next'),
    'list',
    '--authorization',
    ...(specVersion ? ['--spec-version', specVersion] : []),
  ]);
  return [...stdout.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
}

/** Registers a public client (RFC 7591) for the suite's callback on `port`; returns its id. */
async function registerSuiteClient(port: number): Promise<string> {
  const reg = await fetch(`${gw!.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'MCP conformance suite',
      redirect_uris: [`http://127.0.0.1:${port}/callback`],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  expect(reg.status, await reg.clone().text()).toBe(201);
  return ((await reg.json()) as { client_id: string }).client_id;
}

describe('MCP conformance suite 0.2.0-alpha.12: authorization-server scenarios against the gateway', () => {
  // Every scenario the suite has, then the set that applies to MCP 2026-07-28 (issue 17), each
  // run with its checks filtered to that revision.
  it.each([
    { label: 'all revisions', specVersion: undefined },
    { label: '--spec-version 2026-07-28', specVersion: '2026-07-28' },
  ])(
    '$label: every authorization-server scenario passes with no warning; the code grant signs in through the login and consent pages in Chromium',
    async ({ specVersion }) => {
      const listed = await authorizationScenarios(specVersion);
      expect(listed).toEqual(['authorization-server-metadata-endpoint', 'authorization-code-grant']);
      // The suite's callback listens on http://127.0.0.1:<port>/callback.
      const port = await freePort();
      const clientId = await registerSuiteClient(port);
      let browsing: Promise<void> | undefined;
      const run = await runSuite(
        [
          'authorization',
          '--url',
          gw!.url,
          '--client-id',
          clientId,
          '--port',
          String(port),
          ...(specVersion ? ['--spec-version', specVersion] : []),
        ],
        {
          timeoutMs: 120_000,
          suite: 'conformance-next',
          onStdout: (stdout) => {
            const m = /complete the authentication process\.\n(\S+)\n/.exec(stdout);
            if (m && !browsing) browsing = signInAndApprove(m[1]!, port);
          },
        },
      );
      // A browser failure explains a failed grant better than the suite's timeout does.
      await browsing;
      expect(run.output).toContain('Running test (2 scenarios)');
      expect(Object.fromEntries(run.results), run.output.slice(-4000)).toEqual(
        Object.fromEntries(listed.map((name) => [name, true])),
      );
      expect(run.warnings, run.output.slice(-4000)).toEqual([]);
      expect(run.output).toMatch(/authorization-server-metadata-endpoint: [1-9]\d* passed, 0 failed/);
      expect(run.output).toMatch(/authorization-code-grant: 1 passed, 0 failed/);
    },
  );
});
