import { promises as fs } from 'node:fs';
import type { PassThrough } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listen } from '@mcp-gateway/testkit';
import { EXIT_CODES } from '../src/index.js';
import { cli, stdinPipe } from './helpers/cli.js';
import { startMcpServer } from './helpers/mcp-server.js';
import { startSdkOAuthServer } from './helpers/sdk-oauth-server.js';
import { followAuthorizationUrl } from './helpers/flow.js';
import { startAuth2026Server } from './helpers/auth-2026-server.js';
import { startFakeServer, json, html, challenge401, goodPrm, type Route } from './helpers/fake-as.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

let home: string;
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'mcp-client-cli-'));
  homes.push(home);
});
const homes: string[] = [];
afterAll(async () => {
  await Promise.all(homes.map((h) => fs.rm(h, { recursive: true, force: true })));
});

const env = () => ({ MCP_STREAMABLEHTTP_CLIENT_HOME: home });

async function storedFiles(): Promise<string[]> {
  return fs.readdir(path.join(home, 'credentials')).catch(() => []);
}

/** A one-shot command with `--oauth2 --request-timeout 1` whose user takes `ms` to sign in (each time). */
function slowSignIn(args: string[], ms = 1500) {
  return cli([...args, '--oauth2', '--no-browser', '--request-timeout', '1'], {
    env: env(),
    onStderr: (t) => {
      const m = /To sign in, open: (\S+)/.exec(t);
      if (m) void delay(ms).then(() => followAuthorizationUrl(m[1]!));
    },
  });
}

/** Runs a CLI login whose printed URL is followed by an HTTP client, as a browser would. */
async function cliWithBrowser(args: string[], extraEnv: Record<string, string> = {}) {
  const pages: Array<Promise<Response>> = [];
  const run = await cli(args, {
    env: { ...env(), ...extraEnv },
    onStderr: (t) => {
      const m = /To sign in, open: (\S+)/.exec(t);
      if (m) pages.push(followAuthorizationUrl(m[1]!));
    },
  });
  return { ...run, pages };
}

describe('CLI one-shot commands (MCP SDK server)', () => {
  it('cli: tools list, tools call with --args and key=value, resources, prompts, raw; --json prints JSON', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const url = ['--url', s.mcpUrl];

    const list = await cli(['tools', 'list', ...url]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^echo {2}Returns its input$/m);

    const listJson = await cli(['tools', 'list', '--json', ...url]);
    expect((JSON.parse(listJson.stdout) as Array<{ name: string }>).map((t) => t.name)).toContain('add');

    expect((await cli(['tools', 'call', 'add', '--args', '{"a":2,"b":3}', ...url])).stdout).toBe('5\n');
    expect((await cli(['tools', 'call', 'add', 'a=2', 'b=40', ...url])).stdout).toBe('42\n');
    // A string-typed parameter keeps "007" a string.
    expect((await cli(['tools', 'call', 'echo', 'message=007', ...url])).stdout).toBe('007\n');

    const failed = await cli(['tools', 'call', 'fail', ...url]);
    expect(failed.code).toBe(EXIT_CODES.server);
    expect(failed.stdout).toBe('it failed\n');

    expect((await cli(['resources', 'list', ...url])).stdout).toContain('test://hello');
    expect((await cli(['resources', 'read', 'test://hello', ...url])).stdout).toBe('hello resource\n');
    expect((await cli(['prompts', 'list', ...url])).stdout).toContain('greet');
    expect((await cli(['prompts', 'get', 'greet', 'name=Ada', ...url])).stdout).toBe('user: Hello, Ada!\n');

    const raw = await cli(['raw', '{"method":"tools/list"}', '--json', ...url]);
    expect(raw.code).toBe(0);
    expect(JSON.parse(raw.stdout)).toMatchObject({
      jsonrpc: '2.0',
      id: 'raw-1',
      result: { tools: expect.any(Array) },
    });
    const rawErr = await cli(['raw', '{"method":"no/such"}', ...url]);
    expect(rawErr.code).toBe(EXIT_CODES.server);
    expect(JSON.parse(rawErr.stdout)).toMatchObject({ error: { code: -32601 } });
    // One-shot commands end their session.
    expect(s.endpoint.deleted.length).toBeGreaterThanOrEqual(10);
  });

  it('cli: flags of the Python original (--list-tools, -c "tool args", --raw, --server-url, MCP_SERVER_URL)', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    expect((await cli(['--list-tools', '--server-url', s.mcpUrl])).stdout).toContain('echo');
    expect((await cli(['--list-prompts'], { env: { MCP_SERVER_URL: s.mcpUrl } })).stdout).toContain('greet');
    expect((await cli(['--list-resources', '--url', s.mcpUrl])).stdout).toContain('test://hello');
    expect((await cli(['-c', 'echo message="two words"', '--url', s.mcpUrl])).stdout).toBe('two words\n');
    expect((await cli(['-c', 'echo hello there', '--url', s.mcpUrl])).stdout).toBe('hello there\n');
    expect((await cli(['-c', 'add {"a":1,"b":1}', '--url', s.mcpUrl])).stdout).toBe('2\n');
    expect(JSON.parse((await cli(['--raw', '{"method":"ping"}', '--url', s.mcpUrl])).stdout)).toMatchObject({
      result: {},
    });
  });

  it('cli: --token and --header (with ${ENV} expanded) are sent; an unset variable is a usage error', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    await cli(['tools', 'list', '--url', s.mcpUrl, '--token', 'tok-1']);
    expect(s.endpoint.seen.at(-1)?.authorization).toBe('Bearer tok-1');
    const r = await cli(['tools', 'list', '--url', s.mcpUrl, '-H', 'Authorization: Bearer ${MY_SECRET}'], {
      env: { MY_SECRET: 's3' },
    });
    expect(r.code).toBe(0);
    expect(s.endpoint.seen.at(-1)?.authorization).toBe('Bearer s3');
    const bad = await cli(['tools', 'list', '--url', s.mcpUrl, '-H', 'X-Key: ${NOPE_NOT_SET}']);
    expect(bad.code).toBe(EXIT_CODES.usage);
    expect(bad.stderr).toContain('environment variable NOPE_NOT_SET is not set');
  });

  it('cli: usage errors exit 2 (unknown flag, missing URL, bad --args)', async () => {
    const unknown = await cli(['--frobnicate']);
    expect(unknown.code).toBe(EXIT_CODES.usage);
    expect(unknown.stderr).toMatch(/Unknown option '--frobnicate'/);
    const noUrl = await cli(['tools', 'list']);
    expect(noUrl.code).toBe(EXIT_CODES.usage);
    expect(noUrl.stderr).toContain('no server URL');
    const badArgs = await cli(['tools', 'call', 'x', '--args', '{oops', '--url', 'http://127.0.0.1:9/mcp']);
    expect(badArgs.code).toBe(EXIT_CODES.usage);
    expect(badArgs.stderr).toContain('--args is not valid JSON');
  });
});

describe('CLI bad input: clear messages, distinct exit codes, nothing stored', () => {
  it('unreachable URL: exit 4 naming the cause', async () => {
    const dead = await listen(() => new Response(''));
    await dead.close();
    const r = await cli(['tools', 'list', '--url', `${dead.url}/mcp`, '--json'], { env: env() });
    expect(r.code).toBe(EXIT_CODES.network);
    expect(r.stderr).toBe(`error: cannot reach ${dead.url}/mcp: ECONNREFUSED\n`);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { kind: 'network', code: 'unreachable', message: `cannot reach ${dead.url}/mcp: ECONNREFUSED` },
    });
  });

  it('non-MCP server (HTML 200): exit 1, says it is not an MCP endpoint', async () => {
    const s = await startFakeServer({ '/mcp': () => html('Welcome') });
    closers.push(() => s.close());
    const r = await cli(['tools', 'list', '--url', `${s.url}/mcp`], { env: env() });
    expect(r.code).toBe(EXIT_CODES.server);
    expect(r.stderr).toBe(
      `error: ${s.url}/mcp is not an MCP Streamable HTTP endpoint: it answered with content type text/html\n`,
    );
  });

  it('HTML error page (502): exit 1 with the status and the page title only', async () => {
    const s = await startFakeServer({ '/mcp': () => html('502 Bad Gateway', 502) });
    closers.push(() => s.close());
    const r = await cli(['tools', 'list', '--url', `${s.url}/mcp`], { env: env() });
    expect(r.code).toBe(EXIT_CODES.server);
    expect(r.stderr).toBe(`error: ${s.url}/mcp answered HTTP 502 with an HTML page ("502 Bad Gateway")\n`);
  });

  it('401 without credentials: exit 3 (auth), suggests --oauth2', async () => {
    const s = await startFakeServer({ '/mcp': challenge401 });
    closers.push(() => s.close());
    const r = await cli(['tools', 'list', '--url', `${s.url}/mcp`], { env: env() });
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toContain('requires authorization (HTTP 401); use --oauth2, --token or --header');
  });

  const metadataCases: Array<[string, Record<string, Route>, RegExp]> = [
    [
      'malformed protected-resource metadata',
      { '/mcp': challenge401, '/prm': () => json({ resource: 5, authorization_servers: [] }) },
      /protected-resource metadata at http:\/\/127\.0\.0\.1:\d+\/prm is malformed: resource: /,
    ],
    [
      'protected-resource metadata served as an HTML page',
      { '/mcp': challenge401, '/prm': () => html('Login') },
      /protected-resource metadata at \S+\/prm is not JSON: got an HTML page \("Login"\)/,
    ],
    [
      'metadata for another resource',
      {
        '/mcp': challenge401,
        '/prm': () =>
          json({ resource: 'https://elsewhere.example/mcp', authorization_servers: ['https://as.example/'] }),
      },
      /is for resource https:\/\/elsewhere\.example\/mcp, not/,
    ],
    [
      'authorization-server metadata with a wrong issuer (mix-up)',
      {
        '/mcp': challenge401,
        '/prm': goodPrm,
        '/.well-known/oauth-authorization-server': (_r, base) =>
          json({ issuer: 'https://evil.example/', authorization_endpoint: `${base}/authorize` }),
      },
      /names issuer "https:\/\/evil\.example\/", expected "http:\/\/127\.0\.0\.1:\d+\/"/,
    ],
    [
      'authorization-server metadata that is not JSON',
      {
        '/mcp': challenge401,
        '/prm': goodPrm,
        '/.well-known/oauth-authorization-server': () => html('Oops'),
      },
      /authorization server metadata at \S+ is not JSON: got an HTML page \("Oops"\)/,
    ],
    [
      'no PKCE S256 advertised',
      {
        '/mcp': challenge401,
        '/prm': goodPrm,
        '/.well-known/oauth-authorization-server': (_r, base) =>
          json({ issuer: `${base}/`, authorization_endpoint: `${base}/a`, token_endpoint: `${base}/t` }),
      },
      /does not advertise PKCE S256/,
    ],
  ];
  for (const [name, routes, message] of metadataCases) {
    it(`bad metadata: ${name} → exit 3 with a clear message, nothing stored`, async () => {
      const s = await startFakeServer(routes);
      closers.push(() => s.close());
      const r = await cli(['login', '--url', `${s.url}/mcp`, '--no-browser'], { env: env() });
      expect(r.code).toBe(EXIT_CODES.auth);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/To sign in/);
      expect(await storedFiles()).toEqual([]);
    });
  }

  it('callback with a wrong state: exit 3, possible CSRF, nothing stored', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const pages: Array<Promise<Response>> = [];
    const r = await cli(['login', '--url', s.mcpUrl, '--no-browser'], {
      env: env(),
      onStderr: (t) => {
        const m = /To sign in, open: (\S+)/.exec(t);
        if (!m) return;
        const auth = new URL(m[1]!);
        const cb = new URL(auth.searchParams.get('redirect_uri')!);
        cb.searchParams.set('code', 'attacker-code');
        cb.searchParams.set('state', 'forged');
        pages.push(fetch(cb));
      },
    });
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toContain(
      'error: the authorization response carries the wrong state; possible CSRF, nothing stored',
    );
    const page = await pages[0]!;
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('Sign-in failed');
    expect(await storedFiles()).toEqual([]);
  });

  /** A login whose callback carries `iss` (and the right state, a made-up code). */
  async function loginWithIss(iss: string) {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    return cli(['login', '--url', s.mcpUrl, '--no-browser'], {
      env: env(),
      onStderr: (t) => {
        const m = /To sign in, open: (\S+)/.exec(t);
        if (!m) return;
        const auth = new URL(m[1]!);
        const cb = new URL(auth.searchParams.get('redirect_uri')!);
        cb.searchParams.set('code', 'c');
        cb.searchParams.set('state', auth.searchParams.get('state')!);
        cb.searchParams.set('iss', iss);
        void fetch(cb).catch(() => undefined);
      },
    });
  }

  it('callback with a wrong iss: exit 3, possible mix-up, nothing stored', async () => {
    const r = await loginWithIss('https://evil.example/');
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toMatch(
      /the authorization response came from the wrong issuer \(iss "https:\/\/evil\.example\/", expected "http:\/\/127\.0\.0\.1:\d+\/"\)/,
    );
    expect(await storedFiles()).toEqual([]);
  });

  it('callback with a wrong iss carrying a bidi override and a C1 control: each shown as ? on stderr', async () => {
    const r = await loginWithIss('https://evil.example/\u202egro.elpmaxe\u009b2J');
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toContain('(iss "https://evil.example/?gro.elpmaxe?2J", expected "http://127.0.0.1:');
    for (const c of ['\u202e', '\u009b']) expect(r.stderr).not.toContain(c);
    expect(await storedFiles()).toEqual([]);
  });

  /**
   * Runs the CLI with `args` against an SDK OAuth server (`login` unless given); when the
   * sign-in URL is printed, answers the callback with `error` and `description` like an AS.
   * With `stdin` (bridge mode), ends it once the callback page was served.
   */
  async function answeredWithError(
    error: string,
    description: string,
    opts: {
      args?: (mcpUrl: string) => string[];
      stdin?: PassThrough;
      /** Ends `stdin` once stderr says this, instead of once the callback page was served. */
      endWhen?: RegExp;
    } = {},
  ) {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    let page: Promise<Response> | undefined;
    const r = await cli(opts.args?.(s.mcpUrl) ?? ['login', '--url', s.mcpUrl, '--no-browser'], {
      env: env(),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      onStderr: (t) => {
        if (opts.endWhen?.test(t)) opts.stdin?.end();
        const m = /To sign in, open: (\S+)/.exec(t);
        if (!m || page) return;
        const auth = new URL(m[1]!);
        const cb = new URL(auth.searchParams.get('redirect_uri')!);
        cb.searchParams.set('error', error);
        cb.searchParams.set('error_description', description);
        cb.searchParams.set('state', auth.searchParams.get('state')!);
        page = fetch(cb);
        if (!opts.endWhen) void page.finally(() => opts.stdin?.end());
      },
    });
    return { r, page: await page! };
  }

  it('callback with an error (access_denied): exit 3 naming the OAuth error; the page says the sign-in failed and the tab may be closed', async () => {
    const { r, page } = await answeredWithError('access_denied', 'user said no');
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toContain(
      'error: sign-in failed: the authorization server answered access_denied (user said no)\n',
    );
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain('<title>Sign-in failed</title>');
    expect(html).toContain('access_denied (user said no)');
    expect(html).toContain('You can close this tab.');
    expect(await storedFiles()).toEqual([]);
  });

  it('callback with an error whose description carries terminal escapes and line breaks: one line on stderr, each control character shown as ?', async () => {
    const { r } = await answeredWithError(
      'access_denied',
      'no\u001b[2J\u001b]0;owned\u0007\nerror: fake \u202eoverride',
    );
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toContain(
      'error: sign-in failed: the authorization server answered access_denied (no?[2J?]0;owned??error: fake ?override)\n',
    );
    for (const c of ['\u001b', '\u0007', '\u202e']) expect(r.stderr).not.toContain(c);
    expect(r.stderr).not.toMatch(/^error: fake/m);
  });

  it("bridge mode: a sign-in refused during the startup probe answers the host's first request (-32001, naming the OAuth error) at once; no second sign-in", async () => {
    const stdin = stdinPipe();
    const params = {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'host', version: '1' },
    };
    stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params }) + '\n');
    const { r } = await answeredWithError('access_denied', 'user said no', {
      args: (url) => ['--url', url, '--oauth2', '--no-browser', '--auth-timeout', '5'],
      stdin,
    });
    expect(r.stderr.match(/To sign in, open:/g)).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: -32001,
        message: 'sign-in failed: the authorization server answered access_denied (user said no)',
        data: { kind: 'auth', code: 'access_denied' },
      },
    });
    expect(await storedFiles()).toEqual([]);
  });

  it('bridge mode: after a sign-in refused during the startup probe, a host notification is dropped without probing again (no second sign-in)', async () => {
    const stdin = stdinPipe();
    const cancelled = { method: 'notifications/cancelled', params: { requestId: 7, reason: 'gone' } };
    stdin.write(JSON.stringify({ jsonrpc: '2.0', ...cancelled }) + '\n');
    const { r } = await answeredWithError('access_denied', 'user said no', {
      args: (url) => [
        '--url',
        url,
        '--oauth2',
        '--no-browser',
        '--auth-timeout',
        '5',
        '--log-level',
        'debug',
      ],
      stdin,
      endWhen: /dropping a host/,
    });
    expect(r.stderr.match(/To sign in, open:/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/dropping a host notification: the server era is not known/);
    expect(r.stdout).toBe('');
  });

  it('--auth-timeout: no callback in time → exit 3, nothing stored', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const r = await cli(['login', '--url', s.mcpUrl, '--no-browser', '--auth-timeout', '1'], { env: env() });
    expect(r.code).toBe(EXIT_CODES.auth);
    expect(r.stderr).toContain('no authorization response within 1 s (--auth-timeout)');
    expect(await storedFiles()).toEqual([]);
  });
});

describe('CLI login, status, logout (MCP SDK OAuth server)', () => {
  it('login: the printed URL, followed by an HTTP client, logs in; tokens stored 0600 in a 0700 folder, versioned', async () => {
    const s = await startSdkOAuthServer({ requiredScopes: ['mcp:tools'] });
    closers.push(() => s.close());
    const login = await cliWithBrowser(['login', '--url', s.mcpUrl, '--no-browser']);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`logged in to ${s.mcpUrl}`);
    expect(login.stdout).toContain('scopes:   mcp:tools');
    const files = await storedFiles();
    expect(files).toHaveLength(1);
    const file = path.join(home, 'credentials', files[0]!);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(home, 'credentials'))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ version: 1, server: s.mcpUrl, issuer: s.issuer, resource: s.mcpUrl });
    // The login output never shows tokens.
    const tokens = stored.tokens as { access_token: string; refresh_token: string };
    expect(login.stdout + login.stderr).not.toContain(tokens.access_token);
    expect(login.stdout + login.stderr).not.toContain(tokens.refresh_token);

    // Stored credentials are used without --oauth2.
    const call = await cli(['tools', 'call', 'whoami', '--url', s.mcpUrl], { env: env() });
    expect(call.code).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ scopes: ['mcp:tools'] });

    const status = await cli(['status', '--url', s.mcpUrl, '--json'], { env: env() });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      loggedIn: true,
      issuer: s.issuer,
      scope: 'mcp:tools',
      hasRefreshToken: true,
      clientSource: 'dcr',
    });
    expect((await cli(['--test-auth', '--url', s.mcpUrl], { env: env() })).code).toBe(0);

    const logout = await cli(['logout', '--url', s.mcpUrl], { env: env() });
    expect(logout.stdout).toBe(`logged out of ${s.mcpUrl}\n`);
    expect(await storedFiles()).toEqual([]);
    const after = await cli(['status', '--url', s.mcpUrl], { env: env() });
    expect(after.code).toBe(EXIT_CODES.auth);
    expect(after.stdout).toBe(`not logged in to ${s.mcpUrl}\n`);
  });

  it('--oauth2: a one-shot command logs in on the 401 when nothing is stored', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const r = await cliWithBrowser(['tools', 'list', '--oauth2', '--no-browser', '--url', s.mcpUrl]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('echo');
    expect(r.pages).toHaveLength(1);
    expect(await storedFiles()).toHaveLength(1);
  });

  it('--oauth2 with --request-timeout 1: a sign-in that takes longer than the deadline does not count against it (server/discover, then a 2026-07-28 request)', async () => {
    const sdk = await startSdkOAuthServer();
    closers.push(() => sdk.close());
    const probed = await slowSignIn(['tools', 'list', '--url', sdk.mcpUrl]);
    expect(probed.code, probed.stderr).toBe(0);
    expect(probed.stdout).toContain('echo');

    const modern = await startAuth2026Server();
    closers.push(() => modern.close());
    const raw = await slowSignIn([
      'raw',
      '{"method":"tools/list"}',
      '--json',
      '--protocol',
      '2026-07-28',
      '--url',
      modern.mcpUrl,
    ]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(JSON.parse(raw.stdout)).toMatchObject({ result: {} });
  });

  it('--oauth2 with --request-timeout 1 on the 2025 path: sign-ins that take longer than the deadline do not count against it (the first during initialize, a step-up on a 403 mid-session)', async () => {
    const s = await startSdkOAuthServer({
      requiredScopes: ['mcp:tools'],
      stepUp: { tool: 'whoami', scope: 'admin' },
    });
    closers.push(() => s.close());
    const pinned = ['--protocol', '2025-11-25', '--url', s.mcpUrl];
    // Longer than the deadline plus the margin the MCP SDK's own request timeout had over it.
    const first = await slowSignIn(['tools', 'list', ...pinned], 2500);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('echo');

    const stepUp = await slowSignIn(['tools', 'call', 'whoami', ...pinned], 2500);
    expect(stepUp.code, stepUp.stderr).toBe(0);
    expect((JSON.parse(stepUp.stdout) as { scopes: string[] }).scopes.sort()).toEqual(['admin', 'mcp:tools']);
    expect(s.authorizeHits).toBe(2);
  });

  it('--oauth2 with --request-timeout 1 on the 2025 path: after a slow sign-in, a request the server never answers still fails on the deadline (exit 4)', async () => {
    const s = await startSdkOAuthServer({ silentTool: 'echo' });
    closers.push(() => s.close());
    const run = await slowSignIn([
      'tools',
      'call',
      'echo',
      'message=hi',
      '--protocol',
      '2025-11-25',
      '--url',
      s.mcpUrl,
    ]);
    expect(run.code, run.stderr).toBe(EXIT_CODES.network);
    expect(run.stderr).toContain(
      `error: ${s.mcpUrl} did not answer tools/call within 1 s (request deadline; see --request-timeout)`,
    );
    expect(s.authorizeHits).toBe(1);
    expect(run.stdout).toBe('');
  });

  it('callback port: a busy registered port falls back to a free one (new registration); a busy pinned --callback-port is a clear error', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const first = await cliWithBrowser(['login', '--url', s.mcpUrl, '--no-browser']);
    expect(first.code, first.stderr).toBe(0);
    const before = JSON.parse(
      (await cli(['status', '--url', s.mcpUrl, '--json'], { env: env() })).stdout,
    ) as { clientId: string };
    const file = path.join(home, 'credentials', (await storedFiles())[0]!);
    const registered = (
      JSON.parse(await fs.readFile(file, 'utf8')) as { client: { redirect_uris: string[] } }
    ).client.redirect_uris[0]!;
    const port = Number(new URL(registered).port);
    const squatter = await listen(() => new Response('busy'), { port });
    closers.push(() => squatter.close());

    const again = await cliWithBrowser(['login', '--url', s.mcpUrl, '--no-browser']);
    expect(again.code, again.stderr).toBe(0);
    const after = JSON.parse((await cli(['status', '--url', s.mcpUrl, '--json'], { env: env() })).stdout) as {
      clientId: string;
    };
    expect(after.clientId).not.toBe(before.clientId);

    const pinned = await cli(['login', '--url', s.mcpUrl, '--no-browser', '--callback-port', String(port)], {
      env: env(),
    });
    expect(pinned.code).toBe(EXIT_CODES.auth);
    expect(pinned.stderr).toContain(
      `callback port ${port} on 127.0.0.1 is in use; free it or pass another --callback-port`,
    );
  });
});
