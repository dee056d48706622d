import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFetchServer, type FetchServerProcess } from './fetch-server-process.js';
import { REVISION, expectRequiredServerScenarios } from './server-scenarios-2026.js';

const FILE = 'expected-failures.fetch-server-2026.json';

let server: FetchServerProcess | undefined;

beforeAll(async () => {
  server = await startFetchServer();
});
afterAll(() => {
  server?.stop();
});

describe(`MCP conformance suite 0.2.0-alpha.12, --requirements ${REVISION}: server scenarios against mcp-fetch-server`, () => {
  it(`passes every required server scenario except the fixture/capability ones in ${FILE}`, async () => {
    const run = await expectRequiredServerScenarios(server!.url, FILE);
    // SEP-2243 header validation is not scored in this revision (pending against the suite's own fixture); we pass it.
    expect(run.results.get('http-header-validation')).toBe(true);
  });
});
