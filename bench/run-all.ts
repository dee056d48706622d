// Runs every benchmark in this folder that exists, one after another, so the
// numbers are not disturbed by each other. Each prints its own ratio table.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;
const suites = [
  'verify',
  'bridge',
  'fetch',
  'gateway',
  'gateway-2026',
  'federated',
  'store',
  'policy',
  'policy-gateway',
];
let failed = 0;
for (const suite of suites) {
  const entry = path.join(here, suite, 'run.ts');
  if (!existsSync(entry)) {
    console.log(`# ${suite}: not present`);
    continue;
  }
  console.log(`\n# ${suite}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry], { stdio: 'inherit', cwd: here });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
