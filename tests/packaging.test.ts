import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PUBLISHED } from './published.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const published = PUBLISHED;

interface PackageJson {
  name: string;
  license?: string;
  engines?: { node?: string };
  sideEffects?: boolean;
  type?: string;
  publishConfig?: { access?: string };
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readPkg = async (dir: string): Promise<PackageJson> =>
  JSON.parse(await readFile(path.join(root, 'packages', dir, 'package.json'), 'utf8')) as PackageJson;

// What a user of a published package may receive: built code, types, docs, license, schema.
const allowed = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^CHANGELOG\.md$/,
  /^bin\/[a-z-]+\.js$/,
  /^dist\/.+\.(js|cjs|d\.ts|d\.cts)$/,
  /^dist\/.+\.(js|cjs)\.map$/,
  /^schema\/.+\.json$/,
];

describe.each(published)('npm pack: %s', (dir) => {
  it('ships only built code, types, README and LICENSE', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--workspace', `packages/${dir}`], {
      cwd: root,
    });
    const [info] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = info.files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/index.cjs');
    expect(files).toContain('dist/index.d.cts');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
    expect(unexpected).toEqual([]);
    // Every sourceMappingURL comment points at a map that is packed too.
    for (const f of files.filter((f) => /\.c?js$/.test(f))) {
      const text = await readFile(path.join(root, 'packages', dir, f), 'utf8');
      for (const [, map] of text.matchAll(/^\/\/# sourceMappingURL=(\S+)$/gm))
        expect(files, `${f} → ${map}`).toContain(path.posix.join(path.posix.dirname(f), map!));
    }
    const pkg = await readPkg(dir);
    for (const [name, bin] of Object.entries(pkg.bin ?? {})) {
      // A declared bin is a committed shim (so npm links it before the first build), packed, with a shebang.
      expect(bin).toBe(`./bin/${name}.js`);
      expect(files).toContain(`bin/${name}.js`);
      const head = (await readFile(path.join(root, 'packages', dir, bin), 'utf8')).slice(0, 20);
      expect(head.startsWith('#!/usr/bin/env node')).toBe(true);
    }
  });

  it('declares the publishing metadata a user relies on', async () => {
    const pkg = await readPkg(dir);
    expect(pkg.name).toBe(`@mcp-gateway/${dir}`);
    expect(pkg.license).toBe('Apache-2.0');
    expect(pkg.engines?.node).toBe('>=20');
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.publishConfig?.access).toBe('public');
    // import gets the ES module, require the CommonJS build, each with its own declarations.
    expect(pkg.exports?.['.']).toEqual({
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    });
  });
});

/** Workspace packages that are never published: tests only, or inlined into each package at build time. */
const PRIVATE = new Set(['@mcp-gateway/testkit', '@mcp-gateway/internal']);

describe('dependency direction', () => {
  const leaves = published.filter((d) => d !== 'gateway-kit');

  it.each(leaves)('%s depends on no other @mcp-gateway package at run time', async (dir) => {
    const pkg = await readPkg(dir);
    const internal = Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@mcp-gateway/'));
    expect(internal).toEqual([]);
    // testkit (tests only) and internal (inlined at build time, tests/internal-inlined.test.ts) are private.
    const devInternal = Object.keys(pkg.devDependencies ?? {}).filter(
      (d) => d.startsWith('@mcp-gateway/') && !PRIVATE.has(d),
    );
    expect(devInternal).toEqual([]);
  });

  it.each(leaves)('%s source imports no other @mcp-gateway package', async (dir) => {
    const srcDir = path.join(root, 'packages', dir, 'src');
    const entries = await readdir(srcDir, { recursive: true });
    const offenders: string[] = [];
    for (const entry of entries) {
      if (!/\.(ts|mts|js)$/.test(entry)) continue;
      const text = await readFile(path.join(srcDir, entry), 'utf8');
      // The private internal package is the one allowed import: its code is inlined at build time.
      const other = /(?:from\s+|import\(\s*)['"]@mcp-gateway\/(?!internal\/)/;
      if (other.test(text)) offenders.push(entry);
    }
    expect(offenders).toEqual([]);
  });
});

describe('Redis is optional for the authorization server core', () => {
  const dist = path.join(root, 'packages', 'oauth-dynamicclient', 'dist');

  /** The dist files `entry` loads, following relative imports and requires. */
  const graph = async (entry: string, seen = new Set<string>()): Promise<Set<string>> => {
    if (seen.has(entry)) return seen;
    seen.add(entry);
    const text = await readFile(path.join(dist, entry), 'utf8');
    for (const [, rel] of text.matchAll(/(?:from|import|require\()\s*["'](\.\/[^"']+)["']/g))
      await graph(path.posix.join(path.posix.dirname(entry), rel!), seen);
    return seen;
  };

  it('@keyv/redis is an optional peer of oauth-dynamicclient, and a dependency of gateway-kit, which uses it', async () => {
    const as = (await readPkg('oauth-dynamicclient')) as PackageJson & {
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    expect(as.dependencies?.['@keyv/redis']).toBeUndefined();
    expect(as.peerDependencies?.['@keyv/redis']).toBeDefined();
    expect(as.peerDependenciesMeta?.['@keyv/redis']?.optional).toBe(true);
    expect(as.exports?.['./redis']).toEqual({
      import: { types: './dist/redis.d.ts', default: './dist/redis.js' },
      require: { types: './dist/redis.d.cts', default: './dist/redis.cjs' },
    });
    expect((await readPkg('gateway-kit')).dependencies?.['@keyv/redis']).toBe(
      as.peerDependencies?.['@keyv/redis'],
    );
  });

  it.each(['index.js', 'index.cjs'])(
    'the main entry (%s) loads no Redis client; the ./redis entry does',
    async (entry) => {
      for (const file of await graph(entry))
        expect(await readFile(path.join(dist, file), 'utf8'), file).not.toContain('@keyv/redis');
      const redisEntry = entry.replace('index', 'redis');
      expect(await readFile(path.join(dist, redisEntry), 'utf8')).toContain('@keyv/redis');
    },
  );
});

describe('fetch-server installs no DOM implementation of its own', () => {
  it('turndown (browser build) is bundled, so neither turndown nor @mixmark-io/domino is a dependency or an import', async () => {
    const pkg = await readPkg('fetch-server');
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain('turndown');
    const dist = path.join(root, 'packages', 'fetch-server', 'dist');
    const code = (await readdir(dist)).filter((f) => /\.c?js$/.test(f));
    expect(code.length).toBeGreaterThan(0);
    for (const f of code) {
      const text = await readFile(path.join(dist, f), 'utf8');
      expect(text, f).not.toMatch(/(?:from|import\(|require\()\s*["'](?:turndown|@mixmark-io\/domino)/);
    }
  });
});
