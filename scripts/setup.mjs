#!/usr/bin/env node
// Installs what the tests need beyond npm: Debian's redis-server and chromium.
// Runs apt-get only when a binary is missing, so a warm machine pays nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  { bin: '/usr/bin/redis-server', pkg: 'redis-server' },
  { bin: '/usr/bin/chromium', pkg: 'chromium' },
];
const missing = needs.filter((n) => !existsSync(n.bin)).map((n) => n.pkg);
if (missing.length === 0) {
  console.log('[setup] redis-server and chromium present');
  process.exit(0);
}
const asRoot = process.getuid?.() === 0;
const sudo = asRoot ? [] : ['sudo', '-n'];
const run = (args) => {
  console.log(`[setup] ${[...sudo, ...args].join(' ')}`);
  const cmd = sudo.length ? sudo[0] : args[0];
  const rest = sudo.length ? [...sudo.slice(1), ...args] : args.slice(1);
  const r = spawnSync(cmd, rest, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    console.error(
      `[setup] failed: ${args.join(' ')} (exit ${r.status}). Install ${missing.join(', ')} by hand.`,
    );
    process.exit(1);
  }
};
run(['apt-get', 'update', '-qq']);
run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
for (const n of needs) {
  if (!existsSync(n.bin)) {
    console.error(`[setup] ${n.bin} still missing after install`);
    process.exit(1);
  }
}
try {
  console.log('[setup] ' + execFileSync('/usr/bin/redis-server', ['--version']).toString().trim());
} catch {
  // version print is informational only
}
