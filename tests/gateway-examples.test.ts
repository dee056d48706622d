import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@mcp-gateway/gateway-kit';
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
