import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './gateway-helpers.js';
import { PUBLISHED } from './published.js';

const run = promisify(execFile);
const published = PUBLISHED;

/** Export names of `spec` as Node sees them through `require` (flags: as on Node 20 before 20.19) or `import`. */
async function exportNames(how: 'require' | 'import', spec: string, flags: string[] = []): Promise<string[]> {
  const load =
    how === 'require'
      ? `Promise.resolve(require(${JSON.stringify(spec)}))`
      : `import(${JSON.stringify(spec)})`;
  const { stdout } = await run(
    process.execPath,
    [
      ...flags,
      '-e',
      `${load}.then((m) => console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort())))`,
    ],
    { cwd: `${repoRoot}/tests` },
  );
  return JSON.parse(stdout) as string[];
}

describe.each(published)('require(@mcp-gateway/%s)', (dir) => {
  it('loads without require(esm) (Node 20 before 20.19) and exports what import() exports', async () => {
    const spec = `@mcp-gateway/${dir}`;
    const cjs = await exportNames('require', spec, ['--no-experimental-require-module']);
    const esm = await exportNames('import', spec);
    expect(esm.length).toBeGreaterThan(0);
    expect(cjs).toEqual(esm);
  });
});
