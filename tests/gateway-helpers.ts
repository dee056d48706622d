/**
 * Helpers for the gateway end-to-end tests: start `mcp-gateway` as a real
 * child process, and play a browser's part in login and consent with plain
 * HTTP (cookies kept by hand, forms parsed from the served HTML).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixtureMcpServerCommand, spawnCli, waitForUrl, type SpawnedCli } from '@mcp-gateway/testkit';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const gatewayCli = path.join(repoRoot, 'packages', 'gateway-kit', 'dist', 'cli.js');
export const clientCli = path.join(repoRoot, 'packages', 'streamablehttp-client', 'dist', 'cli.js');

/** A port that was free a moment ago (the gateway's issuer must name its port before it listens). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const tempDir = (prefix = 'gw-e2e-') => mkdtempSync(path.join(tmpdir(), prefix));

export interface RunningGateway {
  cli: SpawnedCli;
  url: string;
  port: number;
  cwd: string;
  /** Printed on first start only. */
  adminPassword: string | undefined;
}

/** Starts `node dist/cli.js [args]` in `cwd` on a free port and waits until `/healthz` answers. */
export async function startGateway(
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; args?: string[]; port?: number } = {},
): Promise<RunningGateway> {
  const cwd = opts.cwd ?? tempDir();
  // A port found free may be taken by another test process before the gateway binds it (the
  // issuer must name the port first): on "the port is in use", try another one.
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const cli = spawnCli(process.execPath, [gatewayCli, ...(opts.args ?? [])], {
      cwd,
      env: { MCP_GATEWAY__LISTEN__PORT: String(port), MCP_GATEWAY__LOGGING__LEVEL: 'warn', ...opts.env },
    });
    try {
      await cli.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/, { timeoutMs: 30_000 });
    } catch (err) {
      const ourPort = opts.env?.MCP_GATEWAY__LISTEN__PORT === undefined && opts.port === undefined;
      if (!ourPort || attempt >= 3 || !cli.stderr.includes('the port is in use')) throw err;
      await cli.kill();
      continue;
    }
    return ready(cli, port, cwd);
  }
}

/** The gateway `cli` listening on `port`, once `/healthz` answers. */
async function ready(cli: SpawnedCli, port: number, cwd: string): Promise<RunningGateway> {
  const url = `http://127.0.0.1:${port}`;
  await waitForUrl(`${url}/healthz`);
  const m = /password: (\S+)/.exec(cli.stderr);
  return { cli, url, port, cwd, adminPassword: m?.[1] };
}

/**
 * Writes `mcp-gateway.yaml` in `cwd` with two services: `fetch` (the built-in
 * fetch service, allowed to reach 127.0.0.1) and `fixture` (the testkit's
 * stdio MCP server).
 */
export function writeFetchAndFixtureConfig(cwd: string): void {
  const fixture = fixtureMcpServerCommand();
  writeFileSync(
    path.join(cwd, 'mcp-gateway.yaml'),
    [
      'services:',
      '  fetch:',
      '    type: fetch',
      '    allowHosts: [127.0.0.1]',
      '    ignoreRobotsTxt: true',
      '  fixture:',
      '    type: stdio',
      `    command: ${JSON.stringify(fixture.command)}`,
      `    args: ${JSON.stringify(fixture.args)}`,
      '',
    ].join('\n'),
  );
}

/** A tiny cookie jar: enough for the gateway's `__Host-`/plain cookies on one origin. */
export class CookieJar {
  private cookies = new Map<string, string>();
  store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The first POST form in a page: absolute action URL and its hidden fields. */
export function parseForm(html: string, base: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form in page:\n${html.slice(0, 2000)}`);
  const decode = (s: string) =>
    s
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[decode(m[1]!)] = decode(m[2]!);
  }
  return { action: new URL(decode(form[1]!), base).href, fields };
}

/**
 * Follows an authorization URL as a browser would: signs in to the local IdP
 * with `username`/`password`, approves consent, and returns the final redirect
 * to the client (its `redirect_uri` with `code`, `state` and `iss`), without
 * following it. `headers` go with every request (e.g. `X-Forwarded-For`).
 */
export async function loginAndConsent(
  authorizeUrl: string,
  creds: { username: string; password: string },
  opts: { jar?: CookieJar; gatewayOrigins?: string[]; headers?: Record<string, string> } = {},
): Promise<URL> {
  let url = authorizeUrl;
  const jar = opts.jar ?? new CookieJar();
  const origins = opts.gatewayOrigins ?? [new URL(authorizeUrl).origin];
  for (let hop = 0; hop < 20; hop++) {
    const target = new URL(url);
    if (!origins.includes(target.origin)) return target; // back at the client
    const origin = target.origin;
    const res = await fetch(url, { redirect: 'manual', headers: { ...opts.headers, cookie: jar.header() } });
    jar.store(res);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`${res.status} at ${url}:\n${html.slice(0, 1000)}`);
    const { action, fields } = parseForm(html, url);
    const body = new URLSearchParams(fields);
    if (/name="password"/.test(html)) {
      body.set('username', creds.username);
      body.set('password', creds.password);
    } else {
      body.set('decision', 'approve');
    }
    const posted = await fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        ...opts.headers,
        'content-type': 'application/x-www-form-urlencoded',
        cookie: jar.header(),
        origin,
      },
      body,
    });
    jar.store(posted);
    if (posted.status < 300 || posted.status >= 400) {
      throw new Error(
        `form at ${action} answered ${posted.status}:\n${(await posted.text()).slice(0, 1000)}`,
      );
    }
    url = new URL(posted.headers.get('location')!, action).href;
  }
  throw new Error('too many redirects');
}

/** What `POST /register` answered with 201. */
export interface RegisteredClient {
  client_id: string;
  registration_access_token: string;
  registration_client_uri: string;
}

/**
 * `POST /register` of a public client (RFC 7591) with `headers` (e.g. a
 * distinct `X-Forwarded-For` per call, for a gateway with `trustProxy`, so
 * per-source rate limits do not stop a load test). Returns the response.
 */
export function registerPublicClient(base: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/register`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Load test app',
      redirect_uris: ['http://127.0.0.1:9/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
}

/** Tokens from a full authorization-code flow, and the client that holds them. */
export interface IssuedTokens {
  client: RegisteredClient;
  access_token: string;
  refresh_token: string;
  resource: string;
}

/**
 * A whole authorization-code flow with PKCE, as an MCP client does it:
 * register, `/authorize`, sign in and consent ({@link loginAndConsent}),
 * `/token`. `headers` go with every request.
 */
export async function authorizationCodeFlow(
  base: string,
  creds: { username: string; password: string },
  opts: { resource?: string; scope?: string; headers?: Record<string, string> } = {},
): Promise<IssuedTokens> {
  const headers = opts.headers ?? {};
  const resource = opts.resource ?? `${base}/demo/mcp`;
  // Without a resource: the demo service and its scope; with one, the scope the caller names (if any).
  const scope = opts.scope ?? (opts.resource ? undefined : 'mcp:demo');
  const reg = await registerPublicClient(base, headers);
  if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${await reg.text()}`);
  const client = (await reg.json()) as RegisteredClient;
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${base}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: 'http://127.0.0.1:9/cb',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 's',
    resource,
    ...(scope ? { scope } : {}),
  }).toString();
  const back = await loginAndConsent(authorize.href, creds, { headers });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code in ${back.href}`);
  const res = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:9/cb',
      client_id: client.client_id,
      code_verifier: verifier,
      resource,
    }),
  });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
  const tokens = (await res.json()) as { access_token: string; refresh_token: string };
  return { client, ...tokens, resource };
}

/**
 * RFC 7591 registration of a public client, then the code flow with PKCE
 * (sign-in and consent through {@link loginAndConsent}) and the token
 * request, all against `base`. Returns the access token.
 */
export async function registerAndGetToken(
  base: string,
  opts: { username: string; password: string; resource: string; scope?: string },
): Promise<string> {
  const { username, password, ...rest } = opts;
  return (await authorizationCodeFlow(base, { username, password }, rest)).access_token;
}
