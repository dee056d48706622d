// The Dockerfile and compose files cannot be run here (no Docker), so they are read and held to
// the rules a deployment depends on: non-root, the data dir is the volume, health from /readyz,
// nothing fetched from a registry when a container starts, healthchecks everywhere.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@mcp-gateway/gateway-kit';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined, comments dropped. */
function dockerfile(): Instruction[] {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  let stage = -1;
  const out: Instruction[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [op, ...rest] = t.split(/\s+/);
    if (op!.toUpperCase() === 'FROM') stage++;
    out.push({ op: op!.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

const finalStage = () => {
  const all = dockerfile();
  const last = Math.max(...all.map((i) => i.stage));
  return all.filter((i) => i.stage === last);
};
const env = (ins: Instruction[]) =>
  Object.fromEntries(
    ins
      .filter((i) => i.op === 'ENV')
      .flatMap((i) => [...i.args.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
  );

interface ComposeService {
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  image?: string;
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
}
const compose = (example: string) =>
  parseYaml(readFileSync(path.join(root, 'examples', example, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

/** The gateway's data dir inside the image: MCP_GATEWAY__DATA_DIR, else `.mcp-gateway` under WORKDIR. */
function imageDataDir(): string {
  const ins = finalStage();
  const workdir = ins.filter((i) => i.op === 'WORKDIR').at(-1)!.args;
  const configured = env(ins).MCP_GATEWAY__DATA_DIR;
  const { config } = loadConfig({ env: configured ? { MCP_GATEWAY__DATA_DIR: configured } : {} });
  return path.posix.resolve(workdir, config.dataDir);
}

describe('Dockerfile', () => {
  it('is multi-stage from a pinned Node 20 image and runs as a non-root user', () => {
    const ins = dockerfile();
    expect(ins.filter((i) => i.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    const arg = ins.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))!;
    expect(arg.args).toMatch(/^NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim$/);
    const user = finalStage()
      .filter((i) => i.op === 'USER')
      .at(-1);
    expect(user?.args).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it('the data dir is the working directory and a volume, owned by the runtime user', () => {
    const ins = finalStage();
    const dataDir = imageDataDir();
    expect(ins.filter((i) => i.op === 'WORKDIR').at(-1)!.args).toBe(dataDir);
    expect(ins.find((i) => i.op === 'VOLUME')!.args).toContain(`"${dataDir}"`);
    expect(ins.some((i) => i.op === 'RUN' && i.args.includes(`chown node:node ${dataDir}`))).toBe(true);
  });

  it('health comes from /readyz on the port the gateway listens on', () => {
    const ins = finalStage();
    const hc = ins.find((i) => i.op === 'HEALTHCHECK')!;
    expect(hc.args).toContain('/readyz');
    expect(hc.args).toContain('MCP_GATEWAY__LISTEN__PORT');
    expect(env(ins).MCP_GATEWAY__LISTEN__PORT).toBe('8080');
    expect(env(ins).MCP_GATEWAY__LISTEN__HOST).toBe('0.0.0.0');
    expect(ins.find((i) => i.op === 'EXPOSE')!.args).toBe('8080');
  });

  it('dependencies come from the lockfile at build time; starting reaches no registry', () => {
    const ins = finalStage();
    const installs = ins.filter((i) => i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
    expect(installs.some((i) => /npm ci --omit=dev/.test(i.args))).toBe(true);
    for (const i of ins.filter((x) => x.op === 'ENTRYPOINT' || x.op === 'CMD')) {
      expect(i.args).not.toMatch(/\bnpx\b|\bnpm\b/);
    }
    const entry = JSON.parse(ins.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(entry[0]).toBe('node');
    // The entrypoint is the gateway's built CLI, which the build stage copies in.
    expect(entry[1]).toBe('/app/packages/gateway-kit/dist/cli.js');
    expect(existsSync(path.join(root, 'packages/gateway-kit/dist/cli.js'))).toBe(true);
    // Every package.json the runtime `npm ci` reads is copied before it.
    const copied = ins
      .filter((i) => i.op === 'COPY' && i.args.includes('package.json'))
      .map((i) => i.args.split(/\s+/)[0]);
    for (const pkg of ['oauth-dynamicclient', 'streamablehttp-proxy', 'fetch-server', 'gateway-kit']) {
      expect(copied).toContain(`packages/${pkg}/package.json`);
    }
  });

  it('.dockerignore keeps node_modules, builds and local state out of the context', () => {
    const ignore = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '**/dist', '**/.mcp-gateway', '.git']) expect(ignore).toContain(p);
  });
});

describe('compose files', () => {
  const gateways = (example: string) =>
    Object.entries(compose(example).services).filter(([, s]) => s.image === 'mcp-gateway:local');

  for (const example of ['redis-cluster', 'traefik']) {
    it(`${example}: gateways use the repository image and mount a volume at its data dir`, () => {
      const dataDir = imageDataDir();
      const c = compose(example);
      const gws = gateways(example).filter(([, s]) => !s.entrypoint);
      expect(gws.length).toBeGreaterThan(0);
      for (const [name, s] of gws) {
        expect(s.build?.context, name).toBe('../..');
        expect(existsSync(path.join(root, 'examples', example, s.build!.context, s.build!.dockerfile))).toBe(
          true,
        );
        const data = (s.volumes ?? []).find((v) => v.split(':')[1] === dataDir);
        expect(data, `${name} mounts ${dataDir}`).toBeDefined();
        expect(Object.keys(c.volumes ?? {})).toContain(data!.split(':')[0]);
        // Its config file is mounted where the command points.
        const cfg = s.command![s.command!.indexOf('--config') + 1]!;
        const mount = s.volumes!.find((v) => v.split(':')[1] === cfg)!;
        const local = path.join(root, 'examples', example, mount.split(':')[0]!);
        const { config } = loadConfig({ file: local, env: {} });
        expect(config.dataDir).toBe('.mcp-gateway');
      }
      // No two gateways share a data volume.
      const vols = gws.map(([, s]) => s.volumes!.find((v) => v.split(':')[1] === dataDir));
      expect(new Set(vols).size).toBe(vols.length);
    });

    it(`${example}: no container runs npx or npm at start; every stdio command is installed in the image`, () => {
      const c = compose(example);
      for (const [name, s] of Object.entries(c.services)) {
        for (const part of [...(s.command ?? []), ...(s.entrypoint ?? [])]) {
          expect(part, name).not.toMatch(/^(npx|npm)$/);
        }
      }
      const file = path.join(root, 'examples', example, 'mcp-gateway.yaml');
      const { config } = loadConfig({ file, env: {} });
      const installed = Object.values(c.services)
        .map((s) => s.build?.args?.MCP_SERVER_PACKAGES ?? '')
        .join(' ');
      for (const svc of Object.values(config.services)) {
        if (svc.type !== 'stdio') continue;
        expect(svc.command).not.toMatch(/^(npx|npm)$/);
        // mcp-server-memory is the bin of @modelcontextprotocol/server-memory.
        expect(installed).toMatch(/@modelcontextprotocol\/server-memory@\d/);
      }
    });
  }

  it('redis-cluster: two gateways, redis and nginx with healthchecks, started in health order', () => {
    const c = compose('redis-cluster');
    expect(
      gateways('redis-cluster')
        .map(([n]) => n)
        .sort(),
    ).toEqual(['gateway-1', 'gateway-2']);
    for (const name of ['redis', 'gateway-1', 'gateway-2', 'nginx']) {
      expect(c.services[name]?.healthcheck?.test.length, name).toBeGreaterThan(0);
    }
    expect(c.services['gateway-1']!.healthcheck!.test.join(' ')).toContain('/readyz');
    expect(c.services['gateway-1']!.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(c.services.nginx!.depends_on).toEqual({
      'gateway-1': { condition: 'service_healthy' },
      'gateway-2': { condition: 'service_healthy' },
    });
    // nginx routes to both gateways on the port the image listens on.
    const nginx = readFileSync(path.join(root, 'examples/redis-cluster/nginx.conf'), 'utf8');
    expect(nginx).toMatch(/server gateway-1:8080/);
    expect(nginx).toMatch(/server gateway-2:8080/);
    expect(nginx).toMatch(/map \$http_mcp_session_id/);
  });

  it('redis-cluster: each gateway has its own instanceId, and nginx routes its session ids to it alone', () => {
    const nginx = readFileSync(path.join(root, 'examples/redis-cluster/nginx.conf'), 'utf8').replace(
      /#.*$/gm,
      '',
    );
    const upstreams = new Map(
      [...nginx.matchAll(/upstream\s+(\S+)\s*\{([^}]*)\}/g)].map((m) => [
        m[1]!,
        [...m[2]!.matchAll(/server\s+(\S+?)(?:\s|;)/g)].map((s) => s[1]!),
      ]),
    );
    const map = /map \$http_mcp_session_id \$(\w+)\s*\{([^}]*)\}/.exec(nginx)!;
    const routes = new Map([...map[2]!.matchAll(/^\s*(\S+)\s+(\S+);/gm)].map((m) => [m[1]!, m[2]!] as const));
    // Every value of the map is an upstream's name (proxy_pass then needs no resolver).
    expect(nginx).toMatch(new RegExp(`proxy_pass http://\\$${map[1]};`));
    for (const target of routes.values()) expect(upstreams.has(target), target).toBe(true);
    expect(upstreams.get(routes.get('default')!)!.sort()).toEqual(['gateway-1:8080', 'gateway-2:8080']);
    const ids = gateways('redis-cluster').map(([name, s]) => {
      const id = s.environment?.MCP_GATEWAY__INSTANCE_ID;
      expect(id, name).toBeDefined();
      const { config } = loadConfig({
        file: path.join(root, 'examples/redis-cluster/mcp-gateway.yaml'),
        env: { MCP_GATEWAY__INSTANCE_ID: id! },
      });
      expect(config.instanceId).toBe(id);
      // A session id this instance makes is routed to an upstream of this instance alone.
      const sessionId = `${id}.0123456789abcdef0123456789abcdef`;
      const hit = [...routes].find(([k]) => k.startsWith('~') && new RegExp(k.slice(1)).test(sessionId));
      expect(hit, `${name}: a map line for ${id}`).toBeDefined();
      expect(upstreams.get(hit![1])).toEqual([`${name}:8080`]);
      return id;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });
});
