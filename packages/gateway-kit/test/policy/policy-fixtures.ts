// The policies the MCP-route tests run under, and the users they name.

/** `policies` of the test gateways: a stdio fixture service, the fetch service and an `http` service. */
export const policies = {
  services: {
    fixture: {
      default: 'deny',
      rules: [
        { effect: 'hide', tools: ['crash', 'grandchild', 'garbage'] },
        { effect: 'hide', tools: ['record'], users: ['local:bob'] },
        { effect: 'allow', readOnly: true },
        { effect: 'allow', tools: ['record'], groups: ['ops'], when: 'pathWithin(args.path, "/notes")' },
        { effect: 'allow', tools: ['record'], clients: ['ci-bot'] },
      ],
    },
    fetch: {
      default: 'deny',
      rules: [
        { effect: 'deny', tools: ['fetch'], when: 'args.url.contains("/secret")', reason: 'no secrets' },
        { effect: 'allow', tools: ['fetch'], when: 'urlHost(args.url) in ["127.0.0.1"]' },
      ],
    },
    upstream: {
      default: 'allow',
      rules: [
        { effect: 'hide', tools: ['fetch'], users: ['local:bob'] },
        { effect: 'deny', tools: ['fetch'], clients: ['ci-bot'], reason: 'machines may not fetch' },
      ],
    },
  },
};

/** Local users of the test gateways: alice is in group `ops`, bob in none. */
export const users = [
  { username: 'alice', passwordHash: 'scrypt$unused', groups: ['ops'] },
  { username: 'bob', passwordHash: 'scrypt$unused' },
];
