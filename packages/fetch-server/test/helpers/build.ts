import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKG_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(PKG_DIR, 'dist/cli.js');
/** The HTML conversion worker's entry, which the tool runs from the sources too. */
export const HTML_WORKER = path.join(PKG_DIR, 'dist/html-worker.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The CLI tests run the built bin (`dist/cli.js`), as users do, and the tool converts HTML in
 * `dist/html-worker.js` (see global-setup.ts). The root
 * `npm test` builds first; when run alone with a stale or missing build,
 * build it here (the package's own tsup configs, declarations included).
 */
export function ensureBuilt(): string {
  const newest = newestMtime(path.join(PKG_DIR, 'src'));
  const fresh = [CLI, HTML_WORKER].every((f) => existsSync(f) && statSync(f).mtimeMs >= newest);
  if (!fresh) {
    // As `npm run build` does: the ESM build (which empties dist/), then the CommonJS one.
    execFileSync(process.execPath, [tsupBin()], { cwd: PKG_DIR, stdio: 'ignore' });
    execFileSync(process.execPath, [tsupBin(), '--config', '../../scripts/tsup.cjs.ts'], {
      cwd: PKG_DIR,
      stdio: 'ignore',
    });
  }
  return CLI;
}

function tsupBin(): string {
  let dir = PKG_DIR;
  for (;;) {
    const candidate = path.join(dir, 'node_modules/tsup/dist/cli-default.js');
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('tsup not found');
    dir = up;
  }
}
