/**
 * Our own stack for the client end-to-end tests: the authorization server
 * (`@mcp-gateway/oauth-dynamicclient`, signing in through the GitHub stub)
 * guarding our stdio bridge (`@mcp-gateway/streamablehttp-proxy`) at `/mcp`,
 * on one 127.0.0.1 origin. Plus a small browser (cookies, redirects, the
 * consent form) that follows the sign-in URL the client prints.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import {
  createAuthorizationServer,
  githubIdentityProvider,
  silentLogger,
  type AuthorizationServer,
} from '@mcp-gateway/oauth-dynamicclient';
import { createStdioBridge, type StdioBridge } from '@mcp-gateway/streamablehttp-proxy';
import {
  fixtureMcpServerPath,
  killAllSpawned,
  listen,
  spawnCli,
  startGitHubStub,
  type GitHubStub,
  type Listening,
  type SpawnedCli,
} from '@mcp-gateway/testkit';

export const repoRoot = path.resolve(import.meta.dirname, '..');
/** The built client binary (`npm test` builds first). */
export const clientBin = path.join(repoRoot, 'packages', 'streamablehttp-client', 'dist', 'cli.js');

const require = createRequire(import.meta.url);
/** `@modelcontextprotocol/server-everything`'s stdio entry. */
export const everythingPath = path.join(
  path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);

export interface StackOptions {
  /** The stdio server behind the bridge. Default: the testkit fixture. */
  server?: { command: string; args: string[] };
  /** Access-token lifetime (seconds). */
  accessTokenTtlSeconds?: number;
  /** Scopes `tools/call` needs beyond `mcp:read` (step-up). */
  toolsCallScopes?: string[];
  /** Accept Client ID Metadata Documents on loopback URLs. */
  cimdLoopback?: boolean;
  /** A broken server, for doctor: `/mcp` answers 401 without a challenge, registration and CIMD are off. */
  broken?: boolean;
  /** DPoP (RFC 9449) settings of the authorization server and `requireBearer` (default: on, no nonces). */
  dpop?: { enabled?: boolean; required?: boolean; nonce?: boolean };
  /** Sees every request and its response (method, path, status, headers). */
  onExchange?: (req: Request, res: Response) => void;
}

export interface Stack {
  url: string;
  mcpUrl: string;
  as: AuthorizationServer;
  github: GitHubStub;
  audit: Array<{ type: string } & Record<string, unknown>>;
  /** Counters of the current bridge (open sessions, sessions closed, ...). */
  bridgeStats(): ReturnType<StdioBridge['stats']>;
  /** Ends every bridge session and starts a fresh bridge (a restart: old session ids now get 404). */
  restartBridge(): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const github = await startGitHubStub({
    users: [{ login: 'octocat', id: 583231, name: 'The Octocat', email: 'o@example.test', orgs: ['acme'] }],
  });
  const server = opts.server ?? { command: process.execPath, args: [fixtureMcpServerPath] };
  const makeBridge = () => createStdioBridge({ ...server, logLevel: 'silent' });
  const late: { as?: AuthorizationServer; bridge: StdioBridge; resource?: string } = { bridge: makeBridge() };
  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const as = late.as!;
    const resource = late.resource!;
    if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
      return Response.json(as.protectedResourceMetadata(resource));
    }
    if (url.pathname === '/mcp' && opts.broken && !req.headers.has('authorization')) {
      return new Response('<html><title>Unauthorized</title></html>', {
        status: 401,
        headers: { 'content-type': 'text/html' },
      });
    }
    if (url.pathname === '/mcp') {
      let scopes = ['mcp:read'];
      if (opts.toolsCallScopes && req.method === 'POST') {
        const body = (await req
          .clone()
          .json()
          .catch(() => ({}))) as { method?: unknown };
        if (body.method === 'tools/call') scopes = [...scopes, ...opts.toolsCallScopes];
      }
      const check = await as.requireBearer({ resource, scopes })(req);
      if (!check.ok) return check.response;
      return late.bridge.fetch(req);
    }
    return as.fetch(req, { remoteAddress: '127.0.0.1' });
  };
  const srv: Listening = await listen(async (req) => {
    const seen = opts.onExchange ? req.clone() : undefined;
    const res = await handle(req);
    if (seen) opts.onExchange!(seen, res);
    return res;
  });
  const audit: Stack['audit'] = [];
  const resource = `${srv.url}/mcp`;
  late.resource = resource;
  const as = (late.as = createAuthorizationServer({
    issuer: srv.url,
    resources: [{ resource, scopes: ['mcp:read', 'mcp:write'], name: 'Fixture MCP', default: true }],
    identityProvider: githubIdentityProvider({
      clientId: 'gh-client',
      clientSecret: 'gh-secret',
      allowedUsers: ['github:583231'],
      baseUrl: github.url,
      apiUrl: github.apiUrl,
    }),
    logger: silentLogger,
    onAudit: (r) => void audit.push(r),
    ...(opts.accessTokenTtlSeconds ? { tokens: { accessTokenTtlSeconds: opts.accessTokenTtlSeconds } } : {}),
    ...(opts.cimdLoopback ? { cimd: { allowLoopback: true } } : {}),
    ...(opts.dpop ? { dpop: opts.dpop } : {}),
    ...(opts.broken ? { registration: { enabled: false }, cimd: { enabled: false } } : {}),
  }));
  await as.ready();
  return {
    url: srv.url,
    mcpUrl: resource,
    as,
    github,
    audit,
    bridgeStats: () => late.bridge.stats(),
    async restartBridge() {
      const old = late.bridge;
      late.bridge = makeBridge();
      await old.close();
    },
    async close() {
      await srv.close();
      await late.bridge.close();
      await as.close();
      await github.close();
    },
  };
}

/**
 * A person's browser, in plain HTTP: follows redirects with a cookie jar,
 * approves the consent page, and stops at the client's loopback callback,
 * whose page it returns.
 */
export async function signInLikeABrowser(
  authorizationUrl: string,
  decision: 'approve' | 'deny' = 'approve',
): Promise<Response> {
  const cookies = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      cookies.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri') ?? '';
  let res = await fetch(authorizationUrl, { redirect: 'manual', headers: { cookie: cookie() } });
  let at = authorizationUrl;
  for (let hop = 0; hop < 15; hop++) {
    keep(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      at = new URL(location, at).href;
      res = await fetch(at, { redirect: 'manual', headers: { cookie: cookie() } });
      continue;
    }
    if (redirectUri && at.startsWith(redirectUri)) return res;
    const html = await res.text();
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (!form) throw new Error(`sign-in stopped at ${at} (HTTP ${res.status}): ${html.slice(0, 500)}`);
    const decode = (s: string) =>
      s
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>');
    const fields: Record<string, string> = { decision };
    for (const m of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
      fields[m[1]!] = decode(m[2]!);
    const action = new URL(decode(form[1]!), at).href;
    res = await fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: cookie(),
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(action).origin,
        'sec-fetch-site': 'same-origin',
      },
      body: new URLSearchParams(fields),
    });
    at = action;
  }
  throw new Error('sign-in: too many hops');
}

/** A fresh credentials folder for one test. */
export function tempHome(): { dir: string; env: Record<string, string>; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'client-e2e-'));
  return {
    dir,
    env: { MCP_STREAMABLEHTTP_CLIENT_HOME: dir },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * For a test file: stacks and credential folders made by a test are closed
 * and removed after it, and the clients it spawned killed.
 */
export function perTestStacks(): {
  stack(opts?: StackOptions): Promise<Stack>;
  home(): ReturnType<typeof tempHome>;
} {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    await killAllSpawned();
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(killAllSpawned);
  return {
    async stack(opts = {}) {
      const s = await startStack(opts);
      cleanups.push(() => s.close());
      return s;
    },
    home() {
      const h = tempHome();
      cleanups.push(() => h.remove());
      return h;
    },
  };
}

/** Runs the built client binary. */
export function client(args: string[], env: Record<string, string> = {}): SpawnedCli {
  return spawnCli(process.execPath, [clientBin, ...args], { env });
}

/** Runs the client; when it prints a sign-in URL, signs in like a browser. Resolves with the exit code. */
export async function clientWithBrowser(
  args: string[],
  env: Record<string, string>,
  decision: 'approve' | 'deny' = 'approve',
) {
  const p = client(args, env);
  const signIn = p
    .waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr', timeoutMs: 30_000 })
    .then(([, url]) => signInLikeABrowser(url!, decision))
    .catch(() => undefined);
  const exit = await p.exited;
  return { p, code: exit.code, page: await signIn };
}

/** Parsed JSON-RPC lines a bridge wrote to stdout. */
export function messagesOf(p: SpawnedCli): Array<Record<string, unknown>> {
  return p.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Writes one request and resolves with its answer. */
export async function rpc(
  p: SpawnedCli,
  message: Record<string, unknown>,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  p.writeLine(JSON.stringify({ jsonrpc: '2.0', ...message }));
  const id = JSON.stringify(message.id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await p.waitForOutput(new RegExp(`"id":${id}[,}]`), { stream: 'stdout', timeoutMs });
  return messagesOf(p).find((m) => JSON.stringify(m.id) === JSON.stringify(message.id) && !('method' in m))!;
}

export const INIT_PARAMS = {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'stdio-parent', version: '1' },
};
