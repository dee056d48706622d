// The import rules that `npm run lint` enforces with dependency-cruiser (.dependency-cruiser.mjs):
// no cycles, and the package arrows of shared/DESIGN.md. Each case lays out a small fixture repo in
// a temp folder, runs the real depcruise with the repo's config there, and checks which rule fires.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const config = path.join(root, '.dependency-cruiser.mjs');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (path → source) into a fresh folder and returns it. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'import-rules-'));
  dirs.push(dir);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

interface Violation {
  rule: string;
  from: string;
}

/**
 * Runs depcruise in `dir` the way `npm run lint` does (the repo's rules, the default `err` report)
 * and returns its exit code and the violations the report lists.
 */
async function cruise(dir: string): Promise<{ code: number; violations: Violation[] }> {
  try {
    const { stdout } = await promisify(execFile)(depcruise, ['--config', config, 'packages'], { cwd: dir });
    return { code: 0, violations: parse(stdout) };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    return { code, violations: parse(stdout) };
  }
}
/** `error <rule>: <from> → <to> …` lines of the err report. */
const parse = (stdout: string): Violation[] =>
  [...stdout.matchAll(/^\s*error (\S+): (\S+) →/gm)].map((m) => ({ rule: m[1]!, from: m[2]! }));
const rules = (violations: Violation[]) => violations.map((v) => v.rule).sort();

/** Each published package with one module, importing nothing. */
const CLEAN: Record<string, string> = {
  'packages/oauth-dynamicclient/src/index.ts': 'export const as = 1;\n',
  'packages/streamablehttp-proxy/src/index.ts': 'export const bridge = 1;\n',
  'packages/streamablehttp-client/src/index.ts': 'export const client = 1;\n',
  'packages/fetch-server/src/index.ts': 'export const fetcher = 1;\n',
  'packages/testkit/src/index.ts': 'export const stub = 1;\n',
  'packages/internal/src/shared.ts': 'export const shared = 1;\n',
};

describe('import rules (dependency-cruiser in npm run lint)', () => {
  it('allowed arrows pass: gateway-kit imports the leaves by name, tests import the testkit', async () => {
    const dir = fixture({
      ...CLEAN,
      'packages/gateway-kit/src/index.ts': [
        "import { as } from '@mcp-gateway/oauth-dynamicclient';",
        "import { bridge } from '@mcp-gateway/streamablehttp-proxy';",
        "import { fetcher } from '@mcp-gateway/fetch-server';",
        'export const all = [as, bridge, fetcher];',
        '',
      ].join('\n'),
      'packages/oauth-dynamicclient/test/as.test.ts':
        "import { stub } from '@mcp-gateway/testkit';\nimport { as } from '../src/index.js';\nexport const t = [stub, as];\n",
    });
    expect(await cruise(dir)).toEqual({ code: 0, violations: [] });
  });

  it('an import cycle fails the lint, a type-only one too', async () => {
    const dir = fixture({
      ...CLEAN,
      'packages/oauth-dynamicclient/src/context.ts':
        "import type { Options } from './options.js';\nexport interface Context { options: Options }\n",
      'packages/oauth-dynamicclient/src/options.ts':
        "import type { Context } from './context.js';\nexport interface Options { make(): Context }\n",
    });
    const { code, violations } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(new Set(rules(violations))).toEqual(new Set(['no-circular']));
  });

  it('a leaf package importing another leaf or gateway-kit fails, by name or by path', async () => {
    const dir = fixture({
      ...CLEAN,
      'packages/gateway-kit/src/index.ts': 'export const gw = 1;\n',
      'packages/fetch-server/src/ssrf.ts':
        "import { as } from '../../oauth-dynamicclient/src/index.js';\nexport const s = as;\n",
      'packages/streamablehttp-client/src/uses-gateway.ts':
        "import { gw } from '@mcp-gateway/gateway-kit';\nexport const g = gw;\n",
    });
    const { code, violations } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(violations.map((v) => [v.rule, v.from])).toEqual(
      expect.arrayContaining([
        ['leaf-imports-no-package:fetch-server', 'packages/fetch-server/src/ssrf.ts'],
        [
          'leaf-imports-no-package:streamablehttp-client',
          'packages/streamablehttp-client/src/uses-gateway.ts',
        ],
      ]),
    );
    expect(violations).toHaveLength(2);
  });

  it('shipped code importing test code or the testkit fails', async () => {
    const dir = fixture({
      ...CLEAN,
      'packages/streamablehttp-proxy/test/helper.ts': 'export const h = 1;\n',
      'packages/streamablehttp-proxy/src/uses-test.ts':
        "import { h } from '../test/helper.js';\nexport const x = h;\n",
      'packages/gateway-kit/src/uses-testkit.ts':
        "import { stub } from '@mcp-gateway/testkit';\nexport const y = stub;\n",
    });
    const { code, violations } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(rules(violations)).toEqual(['src-imports-no-test-code', 'src-imports-no-test-code']);
  });

  it('gateway-kit importing a leaf by file path, or testkit importing a package, fails', async () => {
    const dir = fixture({
      ...CLEAN,
      'packages/gateway-kit/src/index.ts':
        "import { bridge } from '../../streamablehttp-proxy/src/index.js';\nexport const b = bridge;\n",
      'packages/testkit/src/uses-package.ts':
        "import { as } from '@mcp-gateway/oauth-dynamicclient';\nexport const a = as;\n",
    });
    const { code, violations } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(rules(violations)).toEqual(['gateway-kit-src-imports-only-leaves', 'testkit-imports-no-package']);
  });
  it('every package may import the private internal package (it is inlined at build time)', async () => {
    const dir = fixture({
      ...CLEAN,
      'packages/gateway-kit/src/index.ts':
        "import { shared } from '../../internal/src/shared.js';\nexport const g = shared;\n",
      'packages/fetch-server/src/uses-internal.ts':
        "import { shared } from '../../internal/src/shared.js';\nexport const f = shared;\n",
    });
    expect(await cruise(dir)).toEqual({ code: 0, violations: [] });
  });

  it('the internal package importing any package fails', async () => {
    const dir = fixture({
      ...CLEAN,
      'packages/gateway-kit/src/index.ts': 'export const gw = 1;\n',
      'packages/internal/src/uses-leaf.ts':
        "import { as } from '../../oauth-dynamicclient/src/index.js';\nexport const a = as;\n",
      'packages/internal/src/uses-gateway.ts':
        "import { gw } from '@mcp-gateway/gateway-kit';\nexport const g = gw;\n",
    });
    const { code, violations } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(rules(violations)).toEqual(['internal-imports-no-package', 'internal-imports-no-package']);
  });
});
