import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  createGateway,
  createLogger,
  issueToken,
  loadConfig,
  subjectWarnings,
} from '@mcp-gateway/gateway-kit';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const examples = path.resolve(import.meta.dirname, '..', 'examples');
const folders = readdirSync(examples, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

describe('examples', () => {
  it("the issue's examples all exist, each with a README", () => {
    for (const name of [
      'quickstart',
      'github',
      'oidc',
      'redis-cluster',
      'traefik',
      'claude-desktop',
      'services',
    ]) {
      expect(folders).toContain(name);
    }
    for (const f of folders)
      expect(existsSync(path.join(examples, f, 'README.md')), `${f}/README.md`).toBe(true);
  });

  const configs = folders.filter((f) => existsSync(path.join(examples, f, 'mcp-gateway.yaml')));
  it.each(configs)('%s/mcp-gateway.yaml passes config validation', (f) => {
    const { config } = loadConfig({ file: path.join(examples, f, 'mcp-gateway.yaml'), env: {} });
    expect(config.issuer).toMatch(/^https?:\/\//);
  });

  it.each(configs)('%s/mcp-gateway.yaml names users by id: config check has no list warnings', (f) => {
    const { config } = loadConfig({ file: path.join(examples, f, 'mcp-gateway.yaml'), env: {} });
    expect(subjectWarnings(config)).toEqual([]);
  });

  it('the services catalogue covers the servers people run behind a gateway', () => {
    const { config } = loadConfig({ file: path.join(examples, 'services', 'mcp-gateway.yaml'), env: {} });
    const names = Object.keys(config.services);
    for (const n of [
      'memory',
      'time',
      'sequential-thinking',
      'filesystem',
      'everything',
      'fetch',
      'tmux',
      'playwright',
    ]) {
      expect(names).toContain(n);
    }
  });

  it('the Claude Desktop config runs mcp-streamablehttp-client with --oauth2 against gateway URLs', () => {
    const cfg = JSON.parse(
      readFileSync(path.join(examples, 'claude-desktop', 'claude_desktop_config.json'), 'utf8'),
    ) as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    const servers = Object.values(cfg.mcpServers);
    expect(servers.length).toBeGreaterThan(0);
    for (const s of servers) {
      expect(s.args).toContain('@mcp-gateway/streamablehttp-client');
      expect(s.args).toContain('--oauth2');
      expect(s.args[s.args.indexOf('--url') + 1]).toMatch(/^https?:\/\/.+\/mcp$/);
    }
  });
});

interface Compose {
  services: Record<string, { labels?: string[] }>;
}

/** Traefik labels of the compose example, as key → value. */
function traefikLabels(): Map<string, string> {
  const compose = parseYaml(
    readFileSync(path.join(examples, 'traefik', 'docker-compose.yml'), 'utf8'),
  ) as Compose;
  const out = new Map<string, string>();
  for (const svc of Object.values(compose.services)) {
    for (const l of svc.labels ?? []) {
      const i = l.indexOf('=');
      out.set(l.slice(0, i), l.slice(i + 1));
    }
  }
  return out;
}

describe('examples/traefik: ForwardAuth labels', () => {
  it('the middleware points at the gateway /verify and copies exactly the identity headers /verify sets', () => {
    const labels = traefikLabels();
    expect(new URL(labels.get('traefik.http.middlewares.mcp-auth.forwardauth.address')!).pathname).toBe(
      '/verify',
    );
    expect(labels.get('traefik.http.middlewares.mcp-auth.forwardauth.trustForwardHeader')).toBe('true');
    expect(
      labels.get('traefik.http.middlewares.mcp-auth.forwardauth.authResponseHeaders')!.split(',').sort(),
    ).toEqual(['X-Client-Id', 'X-Scopes', 'X-User-Id', 'X-User-Name']);
  });

  it('every router behind the middleware serves a resource the gateway config declares', () => {
    const labels = traefikLabels();
    const { config } = loadConfig({ file: path.join(examples, 'traefik', 'mcp-gateway.yaml'), env: {} });
    const declared = config.protectedResources.map((r) => r.resource);
    const protectedRouters = [...labels].filter(
      ([k, v]) => /^traefik\.http\.routers\.[^.]+\.middlewares$/.test(k) && v.split(',').includes('mcp-auth'),
    );
    expect(protectedRouters.length).toBeGreaterThan(0);
    for (const [k] of protectedRouters) {
      const rule = labels.get(k.replace(/middlewares$/, 'rule'))!;
      const host = /Host\(`([^`]+)`\)/.exec(rule)![1];
      const prefix = /PathPrefix\(`([^`]+)`\)/.exec(rule)?.[1] ?? '/';
      expect(declared).toContain(`https://${host}${prefix}`);
    }
  });
});

describe('examples/traefik: the /verify contract', () => {
  it('ForwardAuth: no token → 401 with resource_metadata; a token for the resource → 200 with exactly the headers Traefik copies', async () => {
    const labels = traefikLabels();
    const copied = labels
      .get('traefik.http.middlewares.mcp-auth.forwardauth.authResponseHeaders')!
      .split(',');
    const { config } = loadConfig({
      file: path.join(examples, 'traefik', 'mcp-gateway.yaml'),
      env: { MCP_GATEWAY__STORE__TYPE: 'memory' },
    });
    const gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
    try {
      const resource = config.protectedResources[0]!.resource;
      // Traefik's forwarded request for https://memory.example.com/mcp
      const forwarded = (token?: string) =>
        gw.fetch(
          new Request(`${config.issuer}/verify`, {
            headers: {
              'x-forwarded-method': 'POST',
              'x-forwarded-proto': 'https',
              'x-forwarded-host': 'memory.example.com',
              'x-forwarded-uri': '/mcp',
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
          }),
        );
      const anonymous = await forwarded();
      expect(anonymous.status, await anonymous.clone().text()).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(
        /^Bearer .*resource_metadata="https:\/\/memory\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"/,
      );
      const { access_token } = await issueToken(gw, 'github:583231', resource);
      const ok = await forwarded(access_token);
      expect(ok.status).toBe(200);
      for (const h of copied) expect(ok.headers.get(h), h).toBeTruthy();
      expect(ok.headers.get('x-user-id')).toBe('github:583231');
      expect(ok.headers.get('x-scopes')).toBe('mcp:memory');
      expect(ok.headers.get('authorization')).toBeNull();
      expect([...ok.headers.values()].join(' ')).not.toContain(access_token);
      // The token does not open another host.
      const elsewhere = await gw.fetch(
        new Request(`${config.issuer}/verify`, {
          headers: {
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'other.example.com',
            'x-forwarded-uri': '/mcp',
            authorization: `Bearer ${access_token}`,
          },
        }),
      );
      // An unconfigured host is not a resource at all: refused before the token is looked at.
      expect([elsewhere.status, await elsewhere.json()]).toEqual([
        403,
        { error: 'invalid_target', error_description: 'no configured resource at this URL' },
      ]);
    } finally {
      await gw.close(0);
    }
  });
});
