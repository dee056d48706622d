// @mcp-gateway/internal is never published: each package inlines what it imports from it at build
// time (scripts/tsup.internal.ts). These tests read the built packages as npm would ship them.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const PUBLISHED = [
  'oauth-dynamicclient',
  'streamablehttp-proxy',
  'streamablehttp-client',
  'fetch-server',
  'gateway-kit',
  // Private, but its `listen` inlines the node edge like the others.
  'testkit',
];

/** Every JavaScript and declaration file under `dir`. */
function builtFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(c?js|d\.c?ts)$/.test(f))
    .map((f) => path.join(dir, f));
}

/** An import, export-from, dynamic import or require of the internal package. */
const IMPORTS_INTERNAL = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["']@mcp-gateway\/internal/;

describe('the private internal package is inlined into every published package', () => {
  it.each(PUBLISHED)('%s: no built file imports @mcp-gateway/internal', (name) => {
    const files = builtFiles(path.join(root, 'packages', name, 'dist'));
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.filter((f) => IMPORTS_INTERNAL.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it.each(PUBLISHED)('%s: @mcp-gateway/internal is no runtime dependency', (name) => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'packages', name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    expect(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })).not.toContain(
      '@mcp-gateway/internal',
    );
  });

  it('the pattern finds an import (the check can fail)', () => {
    expect(IMPORTS_INTERNAL.test(`import { x } from "@mcp-gateway/internal/capped-body";`)).toBe(true);
    expect(IMPORTS_INTERNAL.test(`const x = require('@mcp-gateway/internal/capped-body');`)).toBe(true);
    expect(IMPORTS_INTERNAL.test(`"@mcp-gateway/internal": "0.0.0",`)).toBe(false);
  });
});
