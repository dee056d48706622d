import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLIS } from './published.js';
import { repoRoot, tempDir } from './gateway-helpers.js';

const run = promisify(execFile);

const version = (dir: string) =>
  (
    JSON.parse(readFileSync(path.join(repoRoot, 'packages', dir, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

describe.each(CLIS)('$bin', ({ dir, bin }) => {
  const linked = path.join(repoRoot, 'node_modules', '.bin', bin);

  it('npm links the committed bin shim, so the bin exists right after npm ci', () => {
    expect(realpathSync(linked)).toBe(path.join(repoRoot, 'packages', dir, 'bin', `${bin}.js`));
    expect(readFileSync(linked, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it.each(['--version', '-v'])('%s prints the package version and exits 0', async (flag) => {
    const { stdout } = await run(linked, [flag], { cwd: repoRoot });
    expect(stdout).toBe(`${version(dir)}\n`);
  });

  it.each(['--help', '-h'])('%s prints the usage and exits 0', async (flag) => {
    const { stdout } = await run(linked, [flag], { cwd: repoRoot });
    expect(stdout).toMatch(new RegExp(`^(Usage: )?${bin}\\b`));
    expect(stdout).toMatch(/--help/);
    expect(stdout).toMatch(/--version/);
  });

  it('the shim says "run npm run build" when dist/ is missing (a fresh clone before the build)', async () => {
    const fake = tempDir('bin-shim-');
    mkdirSync(path.join(fake, 'bin'));
    writeFileSync(path.join(fake, 'package.json'), '{"type":"module"}');
    const shim = path.join(fake, 'bin', `${bin}.js`);
    copyFileSync(path.join(repoRoot, 'packages', dir, 'bin', `${bin}.js`), shim);
    const err = await run(process.execPath, [shim, '--version']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toBe(
      `${bin}: dist/cli.js is missing: run npm run build (in the repository root) first\n`,
    );
  });
});
