import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configJsonSchema, loadConfig, resolveConfig, serviceRoutes } from '../src/index.js';
import { envVariableFor } from '../src/config/env.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'gw-config-'));

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config: embedded defaults', () => {
  it('no file gives the local IdP, embedded store, fetch and demo services on 127.0.0.1:8080', () => {
    const { config, source } = loadConfig({ cwd: tmp(), env: {} });
    expect(source).toBe('(defaults)');
    expect(config.issuer).toBe('http://127.0.0.1:8080');
    expect(config.idp.type).toBe('local');
    expect(config.store).toEqual({ type: 'embedded', durability: 'commit' });
    expect(config.dataDir).toBe('.mcp-gateway');
    expect(Object.keys(config.services).sort()).toEqual(['demo', 'fetch']);
    expect(config.services.demo).toMatchObject({ type: 'stdio', command: process.execPath });
    expect(config.admins).toEqual(['local:admin']);
  });

  it('without an issuer, the issuer follows the listen address (wildcard host → 127.0.0.1)', () => {
    expect(resolveConfig({}, { env: { MCP_GATEWAY__LISTEN__PORT: '9123' } }).config.issuer).toBe(
      'http://127.0.0.1:9123',
    );
    // Port 80 is http's default: the canonical issuer leaves it out.
    expect(resolveConfig({ listen: { host: '0.0.0.0', port: 80 } }).config.issuer).toBe('http://127.0.0.1');
    expect(resolveConfig({ issuer: 'https://gw.example.com', listen: { port: 1 } }).config.issuer).toBe(
      'https://gw.example.com',
    );
  });

  it('a file that names services replaces the default services', () => {
    const { config } = resolveConfig({ services: { t: { type: 'stdio', command: 'true' } } });
    expect(Object.keys(config.services)).toEqual(['t']);
  });
});

describe('config: files', () => {
  it('YAML and JSON files are read; mcp-gateway.yaml in the working directory is found', () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'mcp-gateway.yaml'),
      'issuer: https://gw.example.com\nservices:\n  api:\n    type: http\n    url: https://up.example.com/mcp\n',
    );
    const y = loadConfig({ cwd: dir, env: {} });
    expect(y.source).toBe('mcp-gateway.yaml');
    expect(y.config.services.api).toMatchObject({ type: 'http', url: 'https://up.example.com/mcp' });
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ store: { type: 'memory' } }));
    expect(loadConfig({ cwd: dir, file: 'c.json', env: {} }).config.store).toEqual({ type: 'memory' });
  });

  it('MCP_GATEWAY_CONFIG names the file', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'x.yml'), 'trustProxy: true\n');
    expect(loadConfig({ cwd: dir, env: { MCP_GATEWAY_CONFIG: 'x.yml' } }).config.trustProxy).toBe(true);
  });

  it('malformed config: broken YAML is reported with the file name', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'bad.yaml'), 'services: [unclosed\n');
    const err = configError(() => loadConfig({ cwd: dir, file: 'bad.yaml', env: {} }));
    expect(err.message).toMatch(/^invalid config \(bad\.yaml\):\n {2}- \(root\): not valid YAML/);
  });

  it('malformed config: a missing file is an error naming the path', () => {
    const err = configError(() => loadConfig({ cwd: '/nonexistent', file: 'nope.yaml', env: {} }));
    expect(err.issues[0]!.message).toContain('ENOENT');
  });
});

describe('config: errors name the field', () => {
  it('a wrong type names its dotted path', () => {
    const err = configError(() => resolveConfig({ listen: { port: 'eighty' } }));
    expect(err.issues).toEqual([{ path: 'listen.port', message: expect.stringMatching(/expected number/) }]);
  });

  it('a misspelt key is an unknown field, not silently ignored', () => {
    const err = configError(() =>
      resolveConfig({ services: { fetch: { type: 'fetch', alowHosts: ['x'] } } }),
    );
    expect(err.issues).toEqual([{ path: 'services.fetch.alowHosts', message: 'unknown field' }]);
  });

  it('an unknown service type names the service', () => {
    const err = configError(() => resolveConfig({ services: { x: { type: 'ftp' } } }));
    expect(err.issues[0]!.path).toBe('services.x.type');
  });

  it('a bad service name, a bad webhook URL and a short secret are each named', () => {
    const err = configError(() =>
      resolveConfig({
        services: { 'Bad Name': { type: 'fetch' } },
        webhooks: [{ url: 'ftp://x', secret: 'short' }],
      }),
    );
    const paths = err.issues.map((i) => i.path).sort();
    expect(paths).toEqual(['services.Bad Name', 'webhooks[0].secret', 'webhooks[0].url']);
  });

  it('an http service needs an http(s) upstream URL and a well-formed credential', () => {
    const err = configError(() =>
      resolveConfig({
        services: { a: { type: 'http', url: 'file:///etc/passwd', credentials: { type: 'bearer' } } },
      }),
    );
    expect(err.issues.map((i) => i.path).sort()).toEqual(['services.a.credentials.token', 'services.a.url']);
  });
});

describe('config: environment overrides', () => {
  it('MCP_GATEWAY__SERVICES__FETCH__ALLOW_HOSTS sets the default fetch service allow-list (comma list)', () => {
    const { config, overrides } = resolveConfig(
      {},
      { env: { MCP_GATEWAY__SERVICES__FETCH__ALLOW_HOSTS: '127.0.0.1, localhost' } },
    );
    expect(config.services.fetch).toMatchObject({ allowHosts: ['127.0.0.1', 'localhost'] });
    expect(overrides).toEqual([
      { path: ['services', 'fetch', 'allowHosts'], variable: 'MCP_GATEWAY__SERVICES__FETCH__ALLOW_HOSTS' },
    ]);
  });

  it('numbers, booleans, JSON values, nested and new keys are typed', () => {
    const { config } = resolveConfig(
      { services: { 'my-api': { type: 'http', url: 'https://a.example/mcp' } } },
      {
        env: {
          MCP_GATEWAY__LISTEN__PORT: '0',
          MCP_GATEWAY__TRUST_PROXY: 'true',
          MCP_GATEWAY__STORE: '{"type":"redis","url":"redis://127.0.0.1:6379"}',
          MCP_GATEWAY__SERVICES__MY_API__URL: 'https://b.example/mcp',
          MCP_GATEWAY__SERVICES__MY_API__CREDENTIALS__TYPE: 'bearer',
          MCP_GATEWAY__SERVICES__MY_API__CREDENTIALS__TOKEN: 's3cret',
          MCP_GATEWAY__TOKENS__ACCESS_TOKEN_TTL: '600',
          MCP_GATEWAY__WEBHOOKS__0__URL: 'https://hooks.example/x',
          MCP_GATEWAY__WEBHOOKS__0__SECRET: '0123456789abcdef',
          UNRELATED: 'x',
        },
      },
    );
    expect(config.listen.port).toBe(0);
    expect(config.trustProxy).toBe(true);
    expect(config.store).toEqual({ type: 'redis', url: 'redis://127.0.0.1:6379', prefix: 'mcp-gateway:' });
    expect(config.services['my-api']).toMatchObject({
      url: 'https://b.example/mcp',
      credentials: { type: 'bearer', token: 's3cret' },
    });
    expect(config.tokens.accessTokenTtl).toBe(600);
    expect(config.webhooks[0]).toMatchObject({ url: 'https://hooks.example/x', events: ['*'] });
  });

  it('an invalid override names the field and the variable', () => {
    const err = configError(() => resolveConfig({}, { env: { MCP_GATEWAY__LISTEN__PORT: 'http' } }));
    expect(err.issues).toEqual([
      {
        path: 'listen.port',
        message: expect.stringMatching(/expected number.*\(from MCP_GATEWAY__LISTEN__PORT\)/),
      },
    ]);
  });

  it('config check: values the authorization server refuses are refused at load, naming the gateway field and variable', () => {
    // The authorization server wants access tokens of 30 s or more; the config schema alone allowed 20.
    const err = configError(() => resolveConfig({ tokens: { accessTokenTtl: 20 } }));
    expect(err.issues).toEqual([
      {
        path: 'tokens.accessTokenTtl',
        message: expect.stringMatching(/>=30.*MCP_GATEWAY__TOKENS__ACCESS_TOKEN_TTL/),
      },
    ]);
    expect(err.message).not.toMatch(/accessTokenTtlSeconds|authorization server options/);
    const fromEnv = configError(() =>
      resolveConfig({}, { env: { MCP_GATEWAY__TOKENS__ACCESS_TOKEN_TTL: '20' } }),
    );
    expect(fromEnv.issues[0]!.message).toMatch(/\(from MCP_GATEWAY__TOKENS__ACCESS_TOKEN_TTL\)$/);
  });

  it('envVariableFor names the variable of any field', () => {
    expect(envVariableFor('tokens.accessTokenTtl')).toBe('MCP_GATEWAY__TOKENS__ACCESS_TOKEN_TTL');
    expect(envVariableFor('webhooks[0].url')).toBe('MCP_GATEWAY__WEBHOOKS__0__URL');
    expect(envVariableFor('services.my-api.url')).toBe('MCP_GATEWAY__SERVICES__MY_API__URL');
    // What it names is what applyEnvOverrides reads back.
    const { config } = resolveConfig({}, { env: { [envVariableFor('tokens.codeTtl')]: '90' } });
    expect(config.tokens.codeTtl).toBe(90);
  });

  it('stdio env keys keep their case', () => {
    const { config } = resolveConfig(
      { services: { s: { type: 'stdio', command: 'x' } } },
      { env: { MCP_GATEWAY__SERVICES__S__ENV__API_KEY: 'k' } },
    );
    expect(config.services.s).toMatchObject({ env: { API_KEY: 'k' } });
  });
});

describe('config: routes', () => {
  it('path routing puts a service at <issuer>/<name>/mcp with scope mcp:<name> and path-inserted metadata', () => {
    const { config } = resolveConfig({ issuer: 'https://gw.example.com/base' });
    const fetch = serviceRoutes(config).find((r) => r.name === 'fetch')!;
    expect(fetch).toMatchObject({
      resource: 'https://gw.example.com/base/fetch/mcp',
      metadataUrl: 'https://gw.example.com/.well-known/oauth-protected-resource/base/fetch/mcp',
      scopes: ['mcp:fetch'],
      prefix: '/base/fetch',
      host: undefined,
    });
  });

  it('host routing puts a service at <scheme>://<host>/mcp; custom path and scopes are kept', () => {
    const { config } = resolveConfig({
      issuer: 'https://auth.example.com',
      services: {
        f: { type: 'fetch', host: 'Fetch.Example.com' },
        g: { type: 'fetch', path: '/tools/g', scopes: ['read'] },
        off: { type: 'fetch', enabled: false },
      },
    });
    const routes = serviceRoutes(config);
    expect(routes.map((r) => [r.name, r.resource, r.metadataUrl, r.scopes])).toEqual([
      [
        'f',
        'https://fetch.example.com/mcp',
        'https://fetch.example.com/.well-known/oauth-protected-resource/mcp',
        ['mcp:f'],
      ],
      [
        'g',
        'https://auth.example.com/tools/g/mcp',
        'https://auth.example.com/.well-known/oauth-protected-resource/tools/g/mcp',
        ['read'],
      ],
    ]);
  });
});

describe('config: published JSON Schema', () => {
  it('schema/config.schema.json is the one generated from the zod schema (run the build to refresh it)', () => {
    const file = path.join(import.meta.dirname, '..', 'schema', 'config.schema.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(configJsonSchema());
  });

  it('the JSON Schema describes services with the three types and env-free defaults', () => {
    const schema = configJsonSchema() as { properties: Record<string, { default?: unknown }> };
    expect(schema.properties.issuer!.default).toBe('http://127.0.0.1:8080');
    expect(JSON.stringify(schema.properties.services)).toContain('"const":"stdio"');
    expect(JSON.stringify(schema.properties.services)).toContain('"const":"http"');
    expect(JSON.stringify(schema.properties.services)).toContain('"const":"fetch"');
  });
});
