import { describe, expect, it } from 'vitest';
import {
  filterToolsResult,
  PolicyDeniedError,
  policiesSchema,
  refusal,
  ToolAnnotations,
  ToolPolicy,
  type PolicyIdentity,
} from '../../src/index.js';

const alice: PolicyIdentity = { sub: 'local:alice', clientId: 'claude' };

const policy = ToolPolicy.fromConfig(
  policiesSchema.parse({
    services: {
      files: {
        default: 'hide',
        rules: [
          { effect: 'allow', readOnly: true },
          { effect: 'allow', tools: ['fetch'], when: 'urlHost(args.url) == "example.com"' },
        ],
      },
    },
  }),
);

const listResult = {
  tools: [
    { name: 'read_file', annotations: { readOnlyHint: true }, inputSchema: { type: 'object' } },
    { name: 'write_file', annotations: { readOnlyHint: false }, inputSchema: { type: 'object' } },
    { name: 'fetch', inputSchema: { type: 'object' } },
  ],
  nextCursor: 'c2',
};

const call = (name: string, args?: unknown) => ({ method: 'tools/call', params: { name, arguments: args } });

describe('per-tool policy: the MCP route’s two steps', () => {
  it('tools/list: hidden tools are left out, everything else of the result kept', () => {
    const filtered = filterToolsResult(policy, alice, 'files', listResult);
    expect(filtered).toEqual({ ...listResult, tools: [listResult.tools[0], listResult.tools[2]] });
  });

  it('no policy: the result and requests pass untouched (the same object)', () => {
    expect(filterToolsResult(policy, alice, 'other', listResult)).toBe(listResult);
    expect(refusal(policy, alice, 'other', call('write_file', {}))).toBeUndefined();
  });

  it('tools/call: a refused call becomes a PolicyDeniedError; other methods and allowed calls pass', () => {
    const denied = refusal(policy, alice, 'files', call('fetch', { url: 'https://evil.test/' }));
    expect(denied).toBeInstanceOf(PolicyDeniedError);
    expect(denied?.jsonRpcError).toMatchObject({ code: -32010, data: { tool: 'fetch' } });
    expect(refusal(policy, alice, 'files', call('fetch', { url: 'https://example.com/' }))).toBeUndefined();
    expect(refusal(policy, alice, 'files', { method: 'tools/list' })).toBeUndefined();
    // Malformed params are refused, never forwarded past the policy.
    expect(refusal(policy, alice, 'files', { method: 'tools/call', params: ['x'] })).toBeInstanceOf(
      PolicyDeniedError,
    );
  });

  it('read-only rules on calls use the annotations learnt from the last tools/list', () => {
    const annotations = new ToolAnnotations();
    expect(refusal(policy, alice, 'files', call('read_file', {}), annotations)).toBeInstanceOf(
      PolicyDeniedError,
    );
    filterToolsResult(policy, alice, 'files', listResult, annotations);
    expect(refusal(policy, alice, 'files', call('read_file', {}), annotations)).toBeUndefined();
    expect(refusal(policy, alice, 'files', call('write_file', {}), annotations)).toBeInstanceOf(
      PolicyDeniedError,
    );
  });
});
