import { killAllSpawned, spawnCli } from '@mcp-gateway/testkit';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_FLAGS, ENV_PREFIX, parseCli, usage } from '../src/cli-args.js';
import { ensureBuilt, PKG_DIR } from './helpers/build.js';
import { toolText } from './helpers/http.js';
import { MAIN_MARKER, startSite } from './helpers/site.js';

let site: Awaited<ReturnType<typeof startSite>>;
let cli: string;
beforeAll(async () => {
  cli = ensureBuilt();
  site = await startSite();
}, 120_000);
afterAll(async () => {
  await killAllSpawned();
  await site.close();
});

const text = toolText;

describe('cli: mcp over stdio (--stdio)', () => {
  it('the SDK client spawns the built bin and calls fetch', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cli, '--stdio', '--allow-host', '127.0.0.1', '--ignore-robots-txt'],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['fetch']);
      const page = await client.callTool({
        name: 'fetch',
        arguments: { url: `${site.url}/article`, max_length: 50_000 },
      });
      expect(text(page)).toContain(MAIN_MARKER);
      const refused = await client.callTool({
        name: 'fetch',
        arguments: { url: 'http://169.254.169.254/latest/' },
      });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toBe(
        'Refused to fetch http://169.254.169.254: 169.254.169.254 is a cloud metadata address. Requests to internal networks are blocked (SSRF protection).',
      );
    } finally {
      await client.close();
    }
  });

  it('environment variables stand in for flags (MCP_FETCH_STDIO, MCP_FETCH_ALLOW_HOSTS, MCP_FETCH_MAX_SIZE)', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cli],
      env: {
        ...(process.env as Record<string, string>),
        MCP_FETCH_STDIO: '1',
        MCP_FETCH_ALLOW_HOSTS: 'example.invalid,127.0.0.1',
        MCP_FETCH_IGNORE_ROBOTS_TXT: 'true',
        MCP_FETCH_MAX_SIZE: '1000',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-env-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'fetch', arguments: { url: `${site.url}/article` } });
      expect(text(result)).toBe(
        `Response from ${site.url} is larger than the 1000-byte limit; not read further`,
      );
    } finally {
      await client.close();
    }
  });
});

describe('cli: MCP 2026-07-28 over stdio (--stdio)', () => {
  it.each([
    ['pinned to 2026-07-28', { pin: '2026-07-28' }],
    ['in auto mode (server/discover probe)', 'auto' as const],
  ])('the MCP SDK 2.x client %s gets the modern era and calls fetch', async (_mode, mode) => {
    const transport = new StdioTransportV2({
      command: process.execPath,
      args: [cli, '--stdio', '--allow-host', '127.0.0.1', '--ignore-robots-txt'],
      stderr: 'pipe',
    });
    const client = new ClientV2({ name: 'stdio-2026', version: '1' }, { versionNegotiation: { mode } });
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect(client.getServerVersion()?.name).toBe('mcp-gateway-fetch');
      const page = await client.callTool({ name: 'fetch', arguments: { url: `${site.url}/text` } });
      expect(text(page)).toContain('just some text');
    } finally {
      await client.close();
    }
  });
});

describe('cli: Streamable HTTP server', () => {
  it('listens on --port 0, logs its URL as JSON on stderr, serves /healthz and the tool, stops on SIGTERM', async () => {
    const proc = spawnCli(process.execPath, [
      cli,
      '--port',
      '0',
      '--allow-host',
      '127.0.0.1',
      '--ignore-robots-txt',
    ]);
    const [, url] = await proc.waitForOutput(/"msg":"listening","url":"(http:\/\/127\.0\.0\.1:\d+\/mcp)"/, {
      stream: 'stderr',
    });
    const base = url!.replace(/\/mcp$/, '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const client = new Client({ name: 'http-cli-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url!)));
    const result = await client.callTool({ name: 'fetch', arguments: { url: `${site.url}/text` } });
    expect(text(result)).toContain('just some text');
    await client.close();
    await proc.kill();
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });

  it('--help prints every flag and exits 0', async () => {
    const proc = spawnCli(process.execPath, [cli, '--help']);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    for (const f of CLI_FLAGS) expect(proc.stdout).toContain(`--${f.flag}`);
  });

  it.each([
    [['--bogus'], "mcp-fetch-server: Unknown option '--bogus'"],
    [['--max-size', 'lots'], 'mcp-fetch-server: --max-size must be a number'],
    [['--port=-1'], 'mcp-fetch-server: --port must be at least 0'],
    [['--port', '70000'], 'mcp-fetch-server: --port must be at most 65535'],
    [
      ['--allow-host', '10.0.0.0/99'],
      'mcp-fetch-server: allow-list entry "10.0.0.0/99" is not a valid CIDR range',
    ],
    [
      ['--proxy', 'socks5://p:1'],
      'mcp-fetch-server: Invalid fetch-server option proxy: proxy must be an http:// URL',
    ],
  ])('bad input %j exits 2 with a usage error', async (args, message) => {
    const proc = spawnCli(process.execPath, [cli, '--stdio', ...args]);
    expect(await proc.exited).toEqual({ code: 2, signal: null });
    expect(proc.stderr.split('\n')[0]).toContain(message);
    expect(proc.stdout).toBe('');
  });
});

describe('cli: flags and environment fallbacks', () => {
  it('flags win over environment variables, which win over defaults', () => {
    const env = {
      MCP_FETCH_PORT: '4000',
      MCP_FETCH_HOST: '0.0.0.0',
      MCP_FETCH_TIMEOUT: '1234',
      MCP_FETCH_ALLOW_HOSTS: 'a.test, b.test',
      MCP_FETCH_MAX_CONCURRENT_FETCHES: '8',
      MCP_FETCH_MAX_CONCURRENT_FETCHES_PER_CALLER: '3',
    };
    const c = parseCli(['--port', '5000', '--allow-host', 'c.test'], env);
    expect(c.port).toBe(5000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.options.timeoutMs).toBe(1234);
    expect(c.options.maxConcurrentFetches).toBe(8);
    expect(c.options.maxConcurrentFetchesPerCaller).toBe(3);
    expect(c.options.allowHosts).toEqual(['c.test']);
    expect(parseCli([], env).options.allowHosts).toEqual(['a.test', 'b.test']);
    expect(parseCli([], {})).toEqual({
      help: false,
      version: false,
      stdio: false,
      host: '127.0.0.1',
      port: 3000,
      options: { ignoreRobotsTxt: false, stateful: false },
    });
  });

  it('every flag maps to its option', () => {
    const c = parseCli(
      [
        '--stdio',
        '--stateful',
        '--path=/f',
        '--user-agent=ua/1',
        '--ignore-robots-txt',
        '--allow-host=10.0.0.0/8',
        '--allow-host=intranet.test',
        '--max-size=2048',
        '--timeout=900',
        '--connect-timeout=300',
        '--max-concurrent-fetches=16',
        '--max-concurrent-fetches-per-caller=2',
        '--proxy=http://proxy.test:3128',
        '--accept-host=mcp.example.com',
        '--accept-origin=any',
      ],
      {},
    );
    expect(c.stdio).toBe(true);
    expect(c.options).toEqual({
      stateful: true,
      path: '/f',
      userAgent: 'ua/1',
      ignoreRobotsTxt: true,
      allowHosts: ['10.0.0.0/8', 'intranet.test'],
      maxBytes: 2048,
      timeoutMs: 900,
      connectTimeoutMs: 300,
      maxConcurrentFetches: 16,
      maxConcurrentFetchesPerCaller: 2,
      proxy: 'http://proxy.test:3128',
      allowedHosts: ['mcp.example.com'],
      allowedOrigins: 'any',
    });
  });

  it('env: every variable is MCP_FETCH_-prefixed and shown on its --help line; unprefixed names are not read', () => {
    const help = usage().split('\n');
    for (const f of CLI_FLAGS) {
      if (!f.env) continue;
      expect(f.env.startsWith(ENV_PREFIX), f.env).toBe(true);
      const line = help.find((l) => new RegExp(`^ +(-\\w, )?--${f.flag}(?![\\w-])`).test(l));
      expect(line, `--${f.flag}`).toContain(`[env ${f.env}]`);
    }
    const c = parseCli([], {
      PORT: '4000',
      HOST: '0.0.0.0',
      PROXY: 'http://p.test:1',
      TIMEOUT: '5',
      MCP_FETCH_PATH: '',
    });
    expect(c).toEqual(parseCli([], {}));
  });

  it('the README documents every flag and environment variable', () => {
    const readme = readFileSync(path.join(PKG_DIR, 'README.md'), 'utf8');
    for (const f of CLI_FLAGS) {
      expect(readme).toContain(`\`--${f.flag}`);
      if (f.env) expect(readme).toContain(`\`${f.env}\``);
    }
  });
});
