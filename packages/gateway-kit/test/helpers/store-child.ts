import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs `code` (an ES module body with `store` and every export of the built
 * package in scope under `kit`) in a separate node process; resolves with what
 * it wrote to stdout. `store` is a `SocketStore` when a process serves `file`
 * on its socket (as a running gateway does), else an `EmbeddedStore` open on it.
 */
export function inChild(file: string, code: string): Promise<string> {
  const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/index.js');
  const script = `import * as kit from ${JSON.stringify(entry)};
const store = (await kit.SocketStore.connect(kit.storeSocketPath(${JSON.stringify(file)}))) ?? new kit.EmbeddedStore({ path: ${JSON.stringify(file)} });
${code}
await store.close();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)),
    );
  });
}
