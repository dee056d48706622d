import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The end-to-end tests' helper: the gateway as a real child process on a free port, ready at /healthz.
import { startGateway, type RunningGateway } from '../../tests/gateway-helpers.js';
import { runSuite } from './suite.js';

let gw: RunningGateway | undefined;

beforeAll(async () => {
  gw = await startGateway();
}, 90_000);

afterAll(async () => {
  await gw?.cli.kill();
  if (gw) await rm(gw.cwd, { recursive: true, force: true });
});

describe('MCP conformance suite 0.2.0-alpha.12: authorization-server scenarios against the gateway', () => {
  it('authorization-server-metadata-endpoint passes every check', async () => {
    const run = await runSuite(
      ['authorization', '--url', gw!.url, '--scenario', 'authorization-server-metadata-endpoint'],
      { timeoutMs: 60_000, suite: 'conformance-next' },
    );
    const m = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(run.output);
    expect(m, run.output.slice(-4000)).not.toBeNull();
    expect({ passed: m![1], failed: m![3], warnings: m![4] }, run.output.slice(-4000)).toEqual({
      passed: m![2],
      failed: '0',
      warnings: '0',
    });
  });
});
