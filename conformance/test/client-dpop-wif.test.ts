import { describe, expect, it } from 'vitest';
import { runClientScenarios } from './client-runs.js';
import { listedScenarios } from './suite.js';

/**
 * The not-scored extension scenarios of issue 19, listed after the 32 required
 * ones: DPoP (SEP-1932, RFC 9449) without and with server nonces, and workload
 * identity federation (SEP-1933, the RFC 7523 JWT-bearer grant). No expected
 * failures: every check of each must pass.
 */
const SCENARIOS = ['auth/dpop', 'auth/dpop-nonce', 'auth/wif-jwt-bearer'];

describe('MCP conformance suite 0.2.0-alpha.12: DPoP and workload identity client scenarios against mcp-streamablehttp-client', () => {
  it('sep-1932 / sep-1933: auth/dpop, auth/dpop-nonce and auth/wif-jwt-bearer pass every check', async () => {
    const listed = await listedScenarios('client', 'conformance-next');
    expect(listed).toEqual(expect.arrayContaining(SCENARIOS));
    const run = await runClientScenarios(SCENARIOS, { suite: 'conformance-next', lanes: 3 });
    expect(Object.fromEntries(run.results), run.output.slice(-8000)).toEqual(
      Object.fromEntries(SCENARIOS.map((name) => [name, true])),
    );
  }, 300_000);
});
