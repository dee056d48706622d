/**
 * Docs, examples and printed hints must name our scoped packages for `npx`:
 * the unscoped names (`mcp-gateway`, `mcp-fetch-server`, …) belong to
 * unrelated packages on npm, so `npx mcp-gateway` outside this checkout runs
 * someone else's code or fails with a 404.
 *
 * The rule: an `npx` whose command (or `-p` package) is one of our bin names
 * is allowed only on a line that also says {@link CHECKOUT_MARKER}, where
 * npm ci has linked the workspace bin.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIS } from './published.js';
import { repoRoot } from './gateway-helpers.js';

/** The words that mark a line as meant for this checkout (case-insensitive). */
export const CHECKOUT_MARKER = 'from this checkout';

const BINS = new Set<string>(CLIS.map((c) => c.bin));
const SKIP = new Set(['-y', '--yes', '-q', '--quiet', '-', 'args']);

/** The places in `text` where `npx` runs one of our bins by its unscoped name. */
export function unscopedNpx(text: string): { line: number; text: string }[] {
  const lines = text.split('\n');
  // Tokens across lines, so JSON `"command": "npx", "args": [...]` and YAML lists are read too.
  const tokens = lines.flatMap((l, i) =>
    l
      .split(/[\s"'`,[\]{}():=]+/)
      .filter(Boolean)
      .map((t) => ({ t, line: i })),
  );
  const found: { line: number; text: string }[] = [];
  const marked = (line: number) => lines[line]!.toLowerCase().includes(CHECKOUT_MARKER);
  tokens.forEach(({ t, line }, i) => {
    if (t !== 'npx') return;
    // With -p/--package npx installs those packages and runs a bin of theirs: check the packages.
    // Without, the command itself is the package name.
    const packages: { t: string; line: number }[] = [];
    let command: { t: string; line: number } | undefined;
    for (let j = i + 1; j < tokens.length && !command; j++) {
      const tok = tokens[j]!;
      if (SKIP.has(tok.t)) continue;
      if ((tok.t === '-p' || tok.t === '--package') && tokens[j + 1]) packages.push(tokens[++j]!);
      else command = tok;
    }
    const named = packages.length ? packages : command ? [command] : [];
    const ours = named.filter((n) => BINS.has(n.t));
    if (ours.length && !marked(line) && !ours.some((n) => marked(n.line)))
      found.push({ line: line + 1, text: lines[line]!.trim() });
  });
  return found;
}

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.turbo', 'coverage', '.mcp-gateway']);

function walk(dir: string, keep: (file: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(e.name)) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full, keep, out);
    else if (keep(full)) out.push(full);
  }
  return out;
}

/** Every Markdown file, every file of examples/, and the packages' sources (banners, printed hints). */
const checked = () => {
  const rel = (f: string) => path.relative(repoRoot, f).split(path.sep).join('/');
  return walk(repoRoot, (f) => {
    const r = rel(f);
    return r.endsWith('.md') || r.startsWith('examples/') || /^packages\/[^/]+\/src\//.test(r);
  }).map(rel);
};

describe('docs and hints name our scoped packages for npx', () => {
  it('the checker finds unscoped npx of our bins in prose, shell, JSON and YAML, and honours the marker', () => {
    expect(unscopedNpx('run `npx mcp-gateway --config x.yaml`')).toHaveLength(1);
    expect(unscopedNpx('npx -y mcp-fetch-server --stdio')).toHaveLength(1);
    expect(unscopedNpx('npx -p mcp-streamablehttp-proxy mcp-streamablehttp-proxy -- cmd')).toHaveLength(1);
    expect(unscopedNpx('{"command": "npx",\n "args": ["-y",\n "mcp-streamablehttp-client"]}')).toHaveLength(
      1,
    );
    expect(unscopedNpx("command: ['npx', '-y', 'mcp-gateway']")).toHaveLength(1);
    expect(unscopedNpx('command:\n  - npx\n  - -y\n  - mcp-gateway\n')).toHaveLength(1);
    expect(unscopedNpx('npx -y @mcp-gateway/gateway-kit users list')).toEqual([]);
    expect(unscopedNpx('npx -y -p @mcp-gateway/fetch-server mcp-fetch-server')).toEqual([]);
    expect(unscopedNpx('npx -y @modelcontextprotocol/server-memory')).toEqual([]);
    expect(unscopedNpx('From this checkout: `npx mcp-gateway users list`')).toEqual([]);
  });

  it('reads the files it should: READMEs, examples and the gateway banner source', () => {
    const files = checked();
    for (const f of [
      'README.md',
      'examples/quickstart/README.md',
      'examples/claude-desktop/claude_desktop_config.json',
      'examples/traefik/docker-compose.yml',
      'packages/gateway-kit/src/cli/run.ts',
      'packages/streamablehttp-client/README.md',
    ])
      expect(files).toContain(f);
  });

  it(`no file runs an unscoped bin with npx, except on lines that say "${CHECKOUT_MARKER}"`, () => {
    const offences = checked().flatMap((f) =>
      unscopedNpx(readFileSync(path.join(repoRoot, f), 'utf8')).map((o) => `${f}:${o.line}: ${o.text}`),
    );
    expect(offences).toEqual([]);
  });

  it('every `npx @mcp-gateway/<pkg>` names a published package with exactly one bin, the one npx runs', () => {
    const named = new Set<string>();
    for (const f of checked()) {
      const text = readFileSync(path.join(repoRoot, f), 'utf8');
      for (const m of text.matchAll(/npx\s+(?:(?:-y|--yes)\s+)*@mcp-gateway\/([a-z-]+)/g)) named.add(m[1]!);
    }
    expect(named.size).toBeGreaterThan(0);
    for (const dir of named) {
      const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'packages', dir, 'package.json'), 'utf8')) as {
        bin?: Record<string, string>;
      };
      expect(Object.keys(pkg.bin ?? {}), dir).toEqual([CLIS.find((c) => c.dir === dir)?.bin]);
    }
  });
});
