import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_ENV, HELP, parseCli, withEnv } from '../src/cli/args.js';
import { ENV_PREFIX } from '../src/env.js';
import { EXIT_CODES } from '../src/index.js';
import { defaultStoreHome } from '../src/store/file.js';
import { cli } from './helpers/cli.js';
import { startMcpServer } from './helpers/mcp-server.js';

const readme = readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md'),
  'utf8',
);
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});
const DEAD = 'http://127.0.0.1:9/mcp';

describe('environment variables: MCP_CLIENT_ prefix, documented aliases', () => {
  it('env: the bin reads MCP_CLIENT_URL, falls back to MCP_SERVER_URL, and MCP_CLIENT_URL wins over it (a flag over both)', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const list = async (env: NodeJS.ProcessEnv, args: string[] = []) => {
      const r = await cli(['tools', 'list', ...args], { env });
      expect(r.code, r.stderr).toBe(EXIT_CODES.ok);
      expect(r.stdout).toContain('echo');
    };
    await list({ MCP_CLIENT_URL: s.mcpUrl });
    await list({ MCP_SERVER_URL: s.mcpUrl });
    await list({ MCP_CLIENT_URL: s.mcpUrl, MCP_SERVER_URL: DEAD });
    await list({ MCP_CLIENT_URL: '', MCP_SERVER_URL: s.mcpUrl });
    await list({ MCP_CLIENT_URL: DEAD, MCP_SERVER_URL: DEAD }, ['--url', s.mcpUrl]);
    const none = await cli(['tools', 'list']);
    expect(none.code).toBe(EXIT_CODES.usage);
    expect(none.stderr).toContain('set MCP_CLIENT_URL');
  });

  it('env: MCP_CLIENT_JSON and MCP_CLIENT_LOG_LEVEL reach the real CLI run', async () => {
    const r = await cli(['tools', 'list', '--url', DEAD], {
      env: { MCP_CLIENT_JSON: '1', MCP_CLIENT_LOG_LEVEL: 'DEBUG' },
    });
    expect(r.code).toBe(EXIT_CODES.network);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'network' } });
    const bad = await cli(['tools', 'list', '--url', DEAD], { env: { MCP_CLIENT_LOG_LEVEL: 'loud' } });
    expect(bad.code).toBe(EXIT_CODES.usage);
    expect(bad.stderr).toContain('--log-level must be one of');
  });

  it('env: every setting flag is filled from its MCP_CLIENT_ variable; a flag wins; an empty variable is unset', () => {
    const { flags } = parseCli([]);
    const filled = withEnv(flags, {
      MCP_CLIENT_OAUTH2: 'true',
      MCP_CLIENT_TOKEN: 't0k',
      MCP_CLIENT_HEADERS: 'X-A: 1\nX-B: two words\n',
      MCP_CLIENT_CLIENT_ID: 'cid',
      MCP_CLIENT_CLIENT_SECRET: 'sec',
      MCP_CLIENT_CLIENT_METADATA_URL: 'https://app.example/cimd.json',
      MCP_CLIENT_SCOPE: 'a b',
      MCP_CLIENT_CALLBACK_PORT: '33418',
      MCP_CLIENT_NO_BROWSER: 'yes',
      MCP_CLIENT_AUTH_TIMEOUT: '9',
      MCP_CLIENT_JSON: 'on',
      MCP_CLIENT_ORIGIN: 'http://localhost:1',
      MCP_CLIENT_LOG_LEVEL: '',
    });
    expect(filled).toMatchObject({
      oauth2: true,
      token: 't0k',
      header: ['X-A: 1', 'X-B: two words'],
      'client-id': 'cid',
      'client-secret': 'sec',
      'client-metadata-url': 'https://app.example/cimd.json',
      scope: 'a b',
      'callback-port': '33418',
      'no-browser': true,
      'auth-timeout': '9',
      json: true,
      origin: 'http://localhost:1',
    });
    expect(filled['log-level']).toBeUndefined();
    // --url is resolved later (a `doctor URL` word beats the environment).
    expect(withEnv(flags, { MCP_CLIENT_URL: DEAD }).url).toBeUndefined();

    const given = parseCli(['--scope', 'x', '--json', '-H', 'X-C: 3']).flags;
    expect(
      withEnv(given, { MCP_CLIENT_SCOPE: 'y', MCP_CLIENT_JSON: '0', MCP_CLIENT_HEADERS: 'X-D: 4' }),
    ).toMatchObject({ scope: 'x', json: true, header: ['X-C: 3'] });
    expect(withEnv(flags, { MCP_CLIENT_OAUTH2: '0' }).oauth2).toBe(false);
  });

  it('env: MCP_CLIENT_HOME names the credentials folder, wins over MCP_STREAMABLEHTTP_CLIENT_HOME, which still works alone', () => {
    expect(defaultStoreHome({ MCP_CLIENT_HOME: '/tmp/a' }, 'linux')).toBe('/tmp/a');
    expect(defaultStoreHome({ MCP_STREAMABLEHTTP_CLIENT_HOME: '/tmp/b' }, 'linux')).toBe('/tmp/b');
    expect(
      defaultStoreHome({ MCP_CLIENT_HOME: '/tmp/a', MCP_STREAMABLEHTTP_CLIENT_HOME: '/tmp/b' }, 'linux'),
    ).toBe('/tmp/a');
    expect(defaultStoreHome({ MCP_CLIENT_HOME: '', MCP_STREAMABLEHTTP_CLIENT_HOME: '/tmp/b' }, 'linux')).toBe(
      '/tmp/b',
    );
  });

  it('docs: every setting flag names its MCP_CLIENT_ variable on its --help line and in the README table', () => {
    const lines = HELP.split('\n');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `-'));
    for (const [flag, v] of Object.entries(CLI_ENV)) {
      const name = `${ENV_PREFIX}${v.name}`;
      const line = lines.find((l) => new RegExp(`^ {2}(-[A-Za-z], )?--${flag}\\b`).test(l));
      expect(line, `--${flag} in --help`).toContain(name);
      const row = rows.find((l) => l.includes(`\`--${flag}`));
      expect(row, `--${flag} in the README`).toContain(`\`${name}`);
      if ('fallback' in v) {
        expect(line).toContain(v.fallback);
        expect(row).toContain(`\`${v.fallback}\``);
      }
    }
    expect(HELP).toContain('$MCP_CLIENT_HOME (alias $MCP_STREAMABLEHTTP_CLIENT_HOME)');
  });
});
