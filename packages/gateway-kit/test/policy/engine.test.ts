import { describe, expect, it } from 'vitest';
import {
  PolicyDeniedError,
  ToolPolicy,
  policiesSchema,
  type PoliciesConfig,
  type PolicyDecisionEvent,
  type PolicyIdentity,
} from '../../src/index.js';

type Input = NonNullable<Parameters<typeof policiesSchema.parse>[0]>;

const alice: PolicyIdentity = { sub: 'local:alice', clientId: 'claude', groups: ['dev'] };
const bob: PolicyIdentity = { sub: 'github:583231', clientId: 'inspector', groups: ['github-team:77'] };
const robot: PolicyIdentity = { sub: 'client:ci-bot', clientId: 'ci-bot' };

const tools = [
  { name: 'read_file', annotations: { readOnlyHint: true } },
  { name: 'write_file', annotations: { readOnlyHint: false } },
  { name: 'delete_file' },
  { name: 'fetch' },
];

function policy(
  services: Input extends { services?: infer S } ? S : never,
  onDecision?: (e: PolicyDecisionEvent) => void,
) {
  const config: PoliciesConfig = policiesSchema.parse({ services });
  return ToolPolicy.fromConfig(config, onDecision ? { onDecision } : {});
}

const names = (p: ToolPolicy, who: PolicyIdentity, service = 'fs') =>
  p.filterTools(who, service, tools).map((t) => t.name);

describe('per-tool policy: engine', () => {
  it('default: a service without a policy lists and allows every tool (today’s behaviour)', () => {
    const p = policy({ other: { default: 'deny' } });
    expect(names(p, alice)).toEqual(['read_file', 'write_file', 'delete_file', 'fetch']);
    expect(p.checkCall(alice, 'fs', 'delete_file', {})).toEqual({ allow: true });
    expect(p.has('fs')).toBe(false);
  });

  it('default deny: a tool no rule allows is listed but refused', () => {
    const p = policy({ fs: { default: 'deny', rules: [{ effect: 'allow', tools: ['read_file'] }] } });
    expect(names(p, alice)).toHaveLength(4);
    expect(p.checkCall(alice, 'fs', 'read_file', {})).toEqual({ allow: true });
    expect(p.checkCall(alice, 'fs', 'write_file', {})).toMatchObject({ allow: false, decision: 'deny' });
  });

  it('default hide: a tool no rule may allow is not in tools/list and not callable', () => {
    const p = policy({ fs: { default: 'hide', rules: [{ effect: 'allow', tools: ['read_*'] }] } });
    expect(names(p, alice)).toEqual(['read_file']);
    expect(p.checkCall(alice, 'fs', 'fetch', {})).toMatchObject({ allow: false, decision: 'hidden' });
  });

  it('hide by user: hidden from that user only', () => {
    const p = policy({
      fs: { default: 'allow', rules: [{ effect: 'hide', tools: ['delete_file'], users: ['local:alice'] }] },
    });
    expect(names(p, alice)).not.toContain('delete_file');
    expect(names(p, bob)).toContain('delete_file');
    expect(p.checkCall(alice, 'fs', 'delete_file', {})).toMatchObject({ allow: false, decision: 'hidden' });
    expect(p.checkCall(bob, 'fs', 'delete_file', {})).toEqual({ allow: true });
  });

  it('allow by group: members of the group may call, others get the default', () => {
    const p = policy({
      fs: {
        default: 'deny',
        rules: [{ effect: 'allow', tools: ['write_file'], groups: ['github-team:77'] }],
      },
    });
    expect(p.checkCall(bob, 'fs', 'write_file', {})).toEqual({ allow: true });
    expect(p.checkCall(alice, 'fs', 'write_file', {})).toMatchObject({
      allow: false,
      reason: 'not allowed by policy',
    });
    expect(p.checkCall({ sub: 'local:carol' }, 'fs', 'write_file', {})).toMatchObject({ allow: false });
  });

  it('deny by client: a machine client is refused what users may do, with the rule’s reason', () => {
    const p = policy({
      fs: {
        default: 'allow',
        rules: [{ effect: 'deny', tools: ['*_file'], clients: ['ci-bot'], reason: 'CI is read-only' }],
      },
    });
    expect(p.checkCall(robot, 'fs', 'write_file', {})).toEqual({
      allow: false,
      decision: 'deny',
      reason: 'CI is read-only',
    });
    expect(p.checkCall(alice, 'fs', 'write_file', {})).toEqual({ allow: true });
    // Deny does not hide: the tool stays listed.
    expect(names(p, robot)).toContain('write_file');
  });

  it('deny beats allow: a user allowed by group and denied by id is refused', () => {
    const p = policy({
      fs: {
        default: 'allow',
        rules: [
          { effect: 'allow', tools: ['write_file'], groups: ['dev'] },
          { effect: 'deny', tools: ['write_file'], users: ['local:alice'] },
        ],
      },
    });
    expect(p.checkCall(alice, 'fs', 'write_file', {})).toMatchObject({ allow: false, decision: 'deny' });
  });

  it('hide beats allow: an allowed tool that a hide rule matches is hidden', () => {
    const p = policy({
      fs: {
        default: 'allow',
        rules: [
          { effect: 'allow', users: ['local:alice'] },
          { effect: 'hide', tools: ['fetch'] },
        ],
      },
    });
    expect(names(p, alice)).not.toContain('fetch');
  });

  it('read-only: readOnly rules match by the tool’s readOnlyHint; unknown annotations count as not read-only', () => {
    const p = policy({
      fs: {
        default: 'deny',
        rules: [
          { effect: 'allow', readOnly: true },
          { effect: 'allow', readOnly: false, groups: ['github-team:77'] },
        ],
      },
    });
    expect(p.checkCall(alice, 'fs', 'read_file', {}, { readOnlyHint: true })).toEqual({ allow: true });
    expect(p.checkCall(alice, 'fs', 'read_file', {})).toMatchObject({ allow: false });
    expect(p.checkCall(alice, 'fs', 'write_file', {}, { readOnlyHint: false })).toMatchObject({
      allow: false,
    });
    expect(p.checkCall(bob, 'fs', 'write_file', {}, { readOnlyHint: false })).toEqual({ allow: true });
  });

  it('argument condition: allow fetch only for hosts of an allow-list (urlHost)', () => {
    const p = policy({
      fs: {
        default: 'deny',
        rules: [
          {
            effect: 'allow',
            tools: ['fetch'],
            when: 'urlHost(args.url) in ["example.com", "docs.example.com"]',
          },
        ],
      },
    });
    expect(p.checkCall(alice, 'fs', 'fetch', { url: 'https://docs.example.com/a' })).toEqual({ allow: true });
    expect(p.checkCall(alice, 'fs', 'fetch', { url: 'https://evil.test/?example.com' })).toMatchObject({
      allow: false,
    });
    // A condition that cannot be evaluated does not allow (missing argument).
    expect(p.checkCall(alice, 'fs', 'fetch', {})).toMatchObject({ allow: false });
    // Listing does not know the arguments: a tool a condition may allow stays listed.
    expect(names(p, alice)).toContain('fetch');
  });

  it('argument condition: deny paths outside a prefix (pathWithin resolves ..); an unevaluable condition denies', () => {
    const p = policy({
      fs: {
        default: 'allow',
        rules: [
          {
            effect: 'deny',
            tools: ['*_file'],
            when: '!pathWithin(args.path, "/data")',
            reason: 'outside /data',
          },
        ],
      },
    });
    expect(p.checkCall(alice, 'fs', 'read_file', { path: '/data/a.txt' })).toEqual({ allow: true });
    expect(p.checkCall(alice, 'fs', 'read_file', { path: '/data/../etc/passwd' })).toMatchObject({
      reason: 'outside /data',
    });
    expect(p.checkCall(alice, 'fs', 'read_file', { path: 42 })).toMatchObject({ allow: false });
    expect(p.checkCall(alice, 'fs', 'read_file', undefined)).toMatchObject({ allow: false });
  });

  it('conditions see the caller: sub, clientId and groups', () => {
    const p = policy({
      fs: {
        default: 'deny',
        rules: [
          { effect: 'allow', when: '"dev" in groups && clientId == "claude" && sub.startsWith("local:")' },
        ],
      },
    });
    expect(p.checkCall(alice, 'fs', 'fetch', {})).toEqual({ allow: true });
    expect(p.checkCall({ ...alice, clientId: 'other' }, 'fs', 'fetch', {})).toMatchObject({ allow: false });
  });

  it('endpoints: a federated endpoint has its own policy, apart from the services’', () => {
    const p = ToolPolicy.fromConfig(
      policiesSchema.parse({
        endpoints: { mcp: { default: 'hide', rules: [{ effect: 'allow', tools: ['fs_read_file'] }] } },
      }),
    );
    expect(
      p.filterTools(alice, { endpoint: 'mcp' }, [{ name: 'fs_read_file' }, { name: 'fs_write_file' }]),
    ).toEqual([{ name: 'fs_read_file' }]);
    expect(p.checkCall(alice, 'mcp', 'fs_write_file', {})).toEqual({ allow: true });
  });

  it('onDecision: refused calls are reported without arguments; a throwing hook changes nothing', () => {
    const events: PolicyDecisionEvent[] = [];
    const p = policy(
      {
        fs: {
          default: 'allow',
          rules: [{ effect: 'deny', tools: ['fetch'], users: ['local:alice'], reason: 'no' }],
        },
      },
      (e) => {
        events.push(e);
        throw new Error('audit down');
      },
    );
    expect(p.checkCall(alice, 'fs', 'fetch', { url: 'https://secret.example/?token=x' })).toMatchObject({
      allow: false,
    });
    expect(p.checkCall(bob, 'fs', 'fetch', {})).toEqual({ allow: true });
    expect(events).toEqual([
      {
        target: 'service',
        name: 'fs',
        tool: 'fetch',
        sub: 'local:alice',
        clientId: 'claude',
        decision: 'deny',
        reason: 'no',
        rule: 0,
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('secret');
  });

  it('PolicyDeniedError: JSON-RPC -32010 with HTTP 200, saying a policy refused the call', async () => {
    const err = new PolicyDeniedError('fetch', 'outside /data');
    const res = err.toResponse(7);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32010,
        message: 'tool "fetch" refused by policy: outside /data',
        data: { tool: 'fetch', reason: 'outside /data' },
      },
    });
    // A 2026-07-28 caller: the same error outside the JSON-RPC reserved range (-32768…-32000).
    expect(err.jsonRpcErrorIn(true)).toEqual({
      code: -31010,
      message: 'tool "fetch" refused by policy: outside /data',
      data: { tool: 'fetch', reason: 'outside /data' },
    });
    expect(err.jsonRpcErrorIn(false)).toEqual(err.jsonRpcError);
  });
});
