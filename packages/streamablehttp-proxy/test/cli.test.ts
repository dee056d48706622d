import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixtureMcpServerPath, killAllSpawned, spawnCli, waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENV, HELP, parseCli } from '../src/cli-options.js';
import { splitCommandLine } from '../src/command-line.js';
import { connectClient, isRunning, textOf } from './helpers.js';

afterAll(killAllSpawned);

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as { bin: Record<string, string> };
const bin = `${pkgDir}/${pkg.bin['mcp-streamablehttp-proxy']}`;

function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build the package first (npx turbo run build)`);
  return spawnCli(process.execPath, [bin, ...args], {
    env: { LOG_LEVEL: '', SERVER_COMMAND: '', MCP_PROXY_LOG_LEVEL: '', MCP_PROXY_SERVER_COMMAND: '', ...env },
  });
}

describe('mcp-streamablehttp-proxy CLI', () => {
  it('cli: the bin serves the command after -- and SIGTERM ends it and its children', async () => {
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const cli = startCli(['--port', '0', '--', process.execPath, fixtureMcpServerPath]);
    const [, url] = await cli.waitForOutput(/"msg":"listening","url":"([^"]+)"/);
    const { client } = await connectClient(url!);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via cli' } }))).toBe('via cli');
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    expect(isRunning(pid)).toBe(true);
    await client.close();
    await cli.kill(5_000);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    await waitFor(() => !isRunning(pid), { message: `child ${pid} outlived the CLI` });
    expect(cli.stderr).toContain('"msg":"shutting down"');
  });

  it('cli: the unprefixed fallbacks MCP_BIND_HOST, MCP_PORT, SERVER_COMMAND and SESSION_TIMEOUT still work', async () => {
    const cli = startCli([], {
      MCP_BIND_HOST: '127.0.0.1',
      MCP_PORT: '0',
      SERVER_COMMAND: `"${process.execPath}" '${fixtureMcpServerPath}'`,
      SESSION_TIMEOUT: '2',
    });
    const [, url] = await cli.waitForOutput(/"msg":"listening","url":"([^"]+)"/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const { client } = await connectClient(url!);
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    // SESSION_TIMEOUT=2: the idle session and its child are reaped after two seconds.
    await cli.waitForOutput(/"msg":"session closed"[^\n]*"reason":"idle"/, { timeoutMs: 10_000 });
    await waitFor(() => !isRunning(pid));
    await client.close();
    await cli.kill();
  });

  it('cli: an unknown flag or a missing command exits 2 with the reason', async () => {
    const bad = startCli(['--nope']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--nope'/);
    const none = startCli(['--port', '0']);
    expect((await none.exited).code).toBe(2);
    expect(none.stderr).toContain('no command: give one after -- or set MCP_PROXY_SERVER_COMMAND');
  });
});

describe('parseCli', () => {
  it('cli: flags win over environment fallbacks, which win over defaults', () => {
    const env = {
      MCP_BIND_HOST: '0.0.0.0',
      MCP_PORT: '8080',
      SESSION_TIMEOUT: '60',
      SERVER_COMMAND: 'uvx mcp-server-time',
    };
    const fromEnv = parseCli([], env);
    if (typeof fromEnv === 'string') throw new Error('unexpected');
    expect(fromEnv.host).toBe('0.0.0.0');
    expect(fromEnv.port).toBe(8080);
    expect(fromEnv.options).toMatchObject({
      command: 'uvx',
      args: ['mcp-server-time'],
      sessionTimeoutMs: 60_000,
    });
    const fromFlags = parseCli(
      [
        '--host',
        '127.0.0.2',
        '--port',
        '9',
        '--session-timeout',
        '5',
        '--max-sessions',
        '7',
        '--pool-size',
        '2',
        '--json-response',
        '--allowed-origins',
        'https://a.example, https://b.example',
        '--env-from-header',
        'X-Github-Token=GITHUB_TOKEN',
        '--env-from-header',
        'X-Other=OTHER',
        '--log-level',
        'warn',
        '--request-timeout',
        '3',
        '--max-request-timeout',
        '90',
        '--initialize-timeout',
        '4',
        '--max-sessions-per-user',
        '2',
        '--max-in-flight-per-session',
        '12',
        '--identity-header',
        'x-user',
        '--memory-limit',
        '1000000000',
        '--cpu-limit',
        '60',
        '--path',
        '/rpc',
        '--',
        'npx',
        '-y',
        '@modelcontextprotocol/server-memory',
      ],
      env,
    );
    if (typeof fromFlags === 'string') throw new Error('unexpected');
    expect(fromFlags).toMatchObject({ host: '127.0.0.2', port: 9 });
    expect(fromFlags.options).toMatchObject({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-memory'],
      sessionTimeoutMs: 5000,
      requestTimeoutMs: 3000,
      maxRequestTimeoutMs: 90_000,
      initializeTimeoutMs: 4000,
      maxSessionsPerUser: 2,
      maxInFlightPerSession: 12,
      maxSessions: 7,
      poolSize: 2,
      jsonResponse: true,
      allowedOrigins: ['https://a.example', 'https://b.example'],
      envFromHeaders: { 'X-Github-Token': 'GITHUB_TOKEN', 'X-Other': 'OTHER' },
      logLevel: 'warn',
      identity: 'x-user',
      limits: { memoryBytes: 1_000_000_000, cpuSeconds: 60 },
      path: '/rpc',
    });
    const defaults = parseCli(['--', 'cmd'], {});
    if (typeof defaults === 'string') throw new Error('unexpected');
    expect(defaults).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(defaults.options).toMatchObject({
      sessionTimeoutMs: 1_800_000,
      requestTimeoutMs: 60_000,
      maxRequestTimeoutMs: 600_000,
      initializeTimeoutMs: 30_000,
      maxSessions: 100,
      maxSessionsPerUser: 5,
      maxInFlightPerSession: 256,
      poolSize: 0,
      jsonResponse: false,
    });
  });

  it('cli: malformed values are refused with the flag named', () => {
    expect(() => parseCli(['--port', 'abc', '--', 'x'], {})).toThrow('--port must be a number');
    expect(() => parseCli(['--port', '70000', '--', 'x'], {})).toThrow('--port must be at most 65535');
    expect(() => parseCli(['--env-from-header', 'nope', '--', 'x'], {})).toThrow(
      '--env-from-header must look like',
    );
    expect(() => parseCli(['--log-level', 'loud', '--', 'x'], {})).toThrow('--log-level must be one of');
    expect(() => parseCli(['--max-in-flight-per-session', '0', '--', 'x'], {})).toThrow(
      '--max-in-flight-per-session must be at least 1',
    );
    expect(() => parseCli(['--initialize-timeout', '0', '--', 'x'], {})).toThrow(
      '--initialize-timeout must be at least 1',
    );
    expect(() => parseCli([], { SERVER_COMMAND: 'a "b' })).toThrow('unterminated " quote');
  });

  it('cli: deadlines and the per-user cap come from their environment variables', () => {
    const fromEnv = parseCli(['--', 'x'], {
      MAX_SESSIONS_PER_USER: '0',
      MAX_REQUEST_TIMEOUT: '120',
      INITIALIZE_TIMEOUT: '9',
    });
    if (typeof fromEnv === 'string') throw new Error('unexpected');
    expect(fromEnv.options).toMatchObject({
      maxSessionsPerUser: 0,
      maxRequestTimeoutMs: 120_000,
      initializeTimeoutMs: 9000,
    });
  });

  it('cli: SERVER_COMMAND splits like a shell', () => {
    expect(splitCommandLine(`uvx mcp-server-time --local-timezone 'Europe/Berlin'`)).toEqual([
      'uvx',
      'mcp-server-time',
      '--local-timezone',
      'Europe/Berlin',
    ]);
    expect(splitCommandLine(`node "/a b/c.js" x\\ y ''`)).toEqual(['node', '/a b/c.js', 'x y', '']);
  });
});

describe('environment variables (MCP_PROXY_ prefix, unprefixed fallbacks)', () => {
  const settings = Object.entries(CLI_ENV);
  const parsed = (env: NodeJS.ProcessEnv) => {
    const r = parseCli(['--', 'x'], env);
    if (typeof r === 'string') throw new Error('unexpected');
    return r;
  };

  it('env: every MCP_PROXY_ variable is read, and the prefixed name wins over its fallback', () => {
    const prefixed = parsed({
      MCP_PROXY_HOST: '0.0.0.0',
      MCP_BIND_HOST: '10.0.0.1',
      MCP_PROXY_PORT: '8081',
      MCP_PORT: '9999',
      MCP_PROXY_PATH: '/p',
      MCP_PATH: '/fallback',
      MCP_PROXY_SESSION_TIMEOUT: '61',
      SESSION_TIMEOUT: '5',
      MCP_PROXY_REQUEST_TIMEOUT: '7',
      MCP_PROXY_MAX_REQUEST_TIMEOUT: '70',
      MCP_PROXY_INITIALIZE_TIMEOUT: '8',
      MCP_PROXY_MAX_SESSIONS: '9',
      MCP_PROXY_MAX_SESSIONS_PER_USER: '2',
      MAX_SESSIONS_PER_USER: '3',
      MCP_PROXY_MAX_IN_FLIGHT_PER_SESSION: '17',
      MAX_IN_FLIGHT_PER_SESSION: '4',
      MCP_PROXY_POOL_SIZE: '1',
      MCP_PROXY_JSON_RESPONSE: '1',
      MCP_PROXY_ALLOWED_ORIGINS: 'https://a.example',
      MCP_PROXY_ALLOWED_HOSTS: 'a.example,b.example',
      ALLOWED_HOSTS: 'fallback.example',
      MCP_PROXY_ENV_FROM_HEADERS: 'X-Token=TOKEN',
      MCP_PROXY_IDENTITY_HEADER: 'X-User',
      MCP_PROXY_MAX_BODY_BYTES: '1000',
      MCP_PROXY_MEMORY_LIMIT: '1000000',
      MCP_PROXY_CPU_LIMIT: '10',
      MCP_PROXY_LOG_LEVEL: 'debug',
      LOG_LEVEL: 'error',
    });
    expect(prefixed.host).toBe('0.0.0.0');
    expect(prefixed.port).toBe(8081);
    expect(prefixed.options).toMatchObject({
      path: '/p',
      sessionTimeoutMs: 61_000,
      requestTimeoutMs: 7000,
      maxRequestTimeoutMs: 70_000,
      initializeTimeoutMs: 8000,
      maxSessions: 9,
      maxSessionsPerUser: 2,
      maxInFlightPerSession: 17,
      poolSize: 1,
      jsonResponse: true,
      allowedOrigins: ['https://a.example'],
      allowedHosts: ['a.example', 'b.example'],
      envFromHeaders: { 'X-Token': 'TOKEN' },
      identity: 'X-User',
      maxBodyBytes: 1000,
      limits: { memoryBytes: 1_000_000, cpuSeconds: 10 },
      logLevel: 'debug',
    });
  });

  it('env: each unprefixed fallback is read when its MCP_PROXY_ variable is unset or empty', () => {
    const fallback = parsed({
      MCP_PROXY_HOST: '',
      MCP_BIND_HOST: '10.0.0.1',
      MCP_PORT: '9999',
      MCP_PATH: '/fallback',
      ALLOWED_HOSTS: 'fallback.example',
      JSON_RESPONSE: 'true',
      LOG_LEVEL: 'error',
    });
    expect(fallback.host).toBe('10.0.0.1');
    expect(fallback.port).toBe(9999);
    expect(fallback.options).toMatchObject({
      path: '/fallback',
      allowedHosts: ['fallback.example'],
      jsonResponse: true,
      logLevel: 'error',
    });
  });

  it('env: MCP_PROXY_SERVER_COMMAND wins over SERVER_COMMAND, which is still read alone', () => {
    const both = parseCli([], { MCP_PROXY_SERVER_COMMAND: 'node a.js', SERVER_COMMAND: 'python b.py' });
    const alone = parseCli([], { SERVER_COMMAND: 'python b.py' });
    if (typeof both === 'string' || typeof alone === 'string') throw new Error('unexpected');
    expect([both.options.command, ...(both.options.args ?? [])]).toEqual(['node', 'a.js']);
    expect([alone.options.command, ...(alone.options.args ?? [])]).toEqual(['python', 'b.py']);
  });

  it('2026: --max-modern-children(-per-user), MCP_PROXY_MAX_MODERN_SHARED_PER_CHILD and MCP_PROXY_REQUEST_STATE_KEY reach the modern options; a short key is refused', () => {
    const key = 'k'.repeat(32);
    const parsed = parseCli(
      ['--max-modern-children', '9', '--max-modern-children-per-user', '3', '--', 'x'],
      {
        MCP_PROXY_REQUEST_STATE_KEY: key,
        MCP_PROXY_MAX_MODERN_SHARED_PER_CHILD: '4',
      },
    );
    if (typeof parsed === 'string') throw new Error('unexpected');
    expect(parsed.options.modern).toEqual({
      maxChildren: 9,
      maxChildrenPerUser: 3,
      maxSharedPerChild: 4,
      maxQueuedPerUser: 16,
      queueTimeoutMs: 30_000,
      requestStateKey: key,
    });
    expect(() => parseCli(['--', 'x'], { REQUEST_STATE_KEY: 'short' })).toThrow(
      '--request-state-key must be at least 32 characters',
    );
  });

  it('2026: --max-modern-queue-per-user (0 allowed) and MCP_PROXY_MODERN_QUEUE_TIMEOUT (seconds) reach the modern options', () => {
    const parsed = parseCli(['--max-modern-queue-per-user', '0', '--', 'x'], {
      MCP_PROXY_MODERN_QUEUE_TIMEOUT: '7',
    });
    if (typeof parsed === 'string') throw new Error('unexpected');
    expect(parsed.options.modern).toMatchObject({ maxQueuedPerUser: 0, queueTimeoutMs: 7000 });
    expect(() => parseCli(['--modern-queue-timeout', '0', '--', 'x'], {})).toThrow('--modern-queue-timeout');
  });

  it('env: every --help option line and the README table name the MCP_PROXY_ variable and its fallback', () => {
    const readme = readFileSync(`${pkgDir}/README.md`, 'utf8');
    for (const [setting, v] of settings) {
      const name = `MCP_PROXY_${v.name}`;
      if (setting !== 'command') {
        const line = HELP.split('\n').findIndex((l) => l.trimStart().startsWith(`--${setting}`));
        expect(line, `--${setting} in --help`).toBeGreaterThanOrEqual(0);
        expect(
          HELP.split('\n')
            .slice(line, line + 2)
            .join(' '),
          `--${setting}`,
        ).toContain(`[${name}`);
      }
      const row = readme.split('\n').find((l) => l.startsWith('| ') && l.includes(`\`${name}`));
      expect(row, `${name} in the README table`).toBeDefined();
      expect(row).toContain(`\`${v.fallback}`);
    }
  });

  it('env: the bin reads MCP_PROXY_ variables over broken fallbacks', async () => {
    const cli = startCli([], {
      MCP_PROXY_HOST: '127.0.0.1',
      MCP_BIND_HOST: 'not-an-address.invalid',
      MCP_PROXY_PORT: '0',
      MCP_PORT: 'not-a-port',
      MCP_PROXY_SERVER_COMMAND: `"${process.execPath}" '${fixtureMcpServerPath}'`,
      SERVER_COMMAND: '/nonexistent/server',
    });
    const [, url] = await cli.waitForOutput(/"msg":"listening","url":"([^"]+)"/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const { client } = await connectClient(url!);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'prefixed' } }))).toBe('prefixed');
    await client.close();
    await cli.kill();
  });
});
