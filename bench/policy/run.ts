// bench/policy: what per-tool policy adds to one MCP request, in process (no
// network): `checkCall` per `tools/call` and `filterTools` per `tools/list`,
// for a typical rule set (12 rules: users, groups, clients, read-only, two CEL
// argument conditions) against a service without a policy. Issue 20 aims at
// under 50 µs per call. Each case runs BENCH_POLICY_ROUNDS rounds (default 5)
// of BENCH_POLICY_CALLS calls (default 200,000) after a warm-up; the median
// round is printed.
import { performance } from 'node:perf_hooks';
import { ToolPolicy, policiesSchema, type PolicyIdentity } from '@mcp-gateway/gateway-kit';

const ROUNDS = Number(process.env.BENCH_POLICY_ROUNDS ?? 5);
const CALLS = Number(process.env.BENCH_POLICY_CALLS ?? 200_000);

const policy = ToolPolicy.fromConfig(
  policiesSchema.parse({
    services: {
      files: {
        default: 'deny',
        rules: [
          { effect: 'hide', tools: ['admin_*'], groups: ['contractors'] },
          { effect: 'deny', tools: ['delete_*'], clients: ['ci-bot'], reason: 'CI may not delete' },
          {
            effect: 'deny',
            tools: ['*_file'],
            when: '!pathWithin(args.path, "/srv/data")',
            reason: 'outside /srv/data',
          },
          { effect: 'deny', users: ['github:666'] },
          { effect: 'allow', readOnly: true },
          {
            effect: 'allow',
            tools: ['fetch'],
            when: 'urlHost(args.url) in ["example.com", "docs.example.com"]',
          },
          { effect: 'allow', tools: ['write_file', 'move_file'], groups: ['github-team:77', 'editors'] },
          { effect: 'allow', tools: ['delete_*'], users: ['local:admin'] },
          { effect: 'allow', tools: ['search'], clients: ['claude', 'inspector'] },
          { effect: 'allow', tools: ['admin_*'], groups: ['admins'] },
          { effect: 'allow', tools: ['report'], groups: ['github-org:9919'] },
          { effect: 'allow', tools: ['echo'] },
        ],
      },
    },
  }),
);

const user: PolicyIdentity = {
  sub: 'github:583231',
  clientId: 'claude',
  groups: ['github-org:9919', 'github-team:77', 'github-team:78', 'staff'],
};

interface Case {
  name: string;
  run: () => unknown;
}

const cases: Case[] = [
  {
    name: 'no policy (service without one)',
    run: () => policy.checkCall(user, 'other', 'write_file', { path: '/srv/data/a' }),
  },
  {
    name: 'allowed write_file (group rule, path condition)',
    run: () => policy.checkCall(user, 'files', 'write_file', { path: '/srv/data/notes/a.txt', content: 'x' }),
  },
  {
    name: 'denied write_file (path outside the prefix)',
    run: () =>
      policy.checkCall(user, 'files', 'write_file', { path: '/srv/data/../etc/passwd', content: 'x' }),
  },
  {
    name: 'allowed fetch (host allow-list condition)',
    run: () => policy.checkCall(user, 'files', 'fetch', { url: 'https://docs.example.com/guide?q=1' }),
  },
  {
    name: 'allowed read-only tool (annotation)',
    run: () => policy.checkCall(user, 'files', 'list_dir', { dir: '/' }, { readOnlyHint: true }),
  },
  { name: 'default deny (no rule allows)', run: () => policy.checkCall(user, 'files', 'shutdown', {}) },
];

const tools = Array.from({ length: 30 }, (_, i) => ({
  name:
    ['read_file', 'write_file', 'delete_file', 'fetch', 'search', 'admin_reset'][i % 6]! +
    (i < 6 ? '' : `_${i}`),
  annotations: { readOnlyHint: i % 3 === 0 },
}));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure(run: () => unknown, calls: number): number {
  for (let i = 0; i < Math.min(calls, 20_000); i++) run();
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) run();
    perRound.push(((performance.now() - t0) * 1000) / calls);
  }
  return median(perRound);
}

console.log(`bench/policy: ${ROUNDS} rounds, median µs per operation (node ${process.version})`);
console.log('| case | µs per call |');
console.log('| --- | ---: |');
for (const c of cases) console.log(`| checkCall: ${c.name} | ${measure(c.run, CALLS).toFixed(2)} |`);
const listUs = measure(() => policy.filterTools(user, 'files', tools), Math.max(1, Math.floor(CALLS / 10)));
console.log(`| filterTools: 30 tools | ${listUs.toFixed(2)} |`);
