import { describe, expect, it } from 'vitest';
import { ConfigError, configJsonSchema, resolveConfig, subjectWarnings } from '../../src/index.js';

function issues(raw: Record<string, unknown>): { path: string; message: string }[] {
  try {
    resolveConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const services = { fs: { type: 'stdio', command: 'true' } };

describe('per-tool policy: config validation', () => {
  it('no policies: every service keeps today’s behaviour', () => {
    expect(resolveConfig({ services }).config.policies).toEqual({ services: {}, endpoints: {} });
  });

  it('a valid policy loads with defaults filled in', () => {
    const { config } = resolveConfig({
      services,
      policies: {
        services: { fs: { default: 'deny', rules: [{ effect: 'allow', when: 'has(args.path)' }] } },
      },
    });
    expect(config.policies.services.fs!.rules[0]).toEqual({
      effect: 'allow',
      tools: ['*'],
      when: 'has(args.path)',
    });
  });

  it('a policy for an unknown service is an error naming it', () => {
    expect(issues({ services, policies: { services: { nope: { default: 'allow' } } } })).toEqual([
      { path: 'policies.services.nope', message: 'no service "nope" is configured' },
    ]);
  });

  it('a condition that does not compile is an error at its path', () => {
    const found = issues({
      services,
      policies: {
        services: {
          fs: { default: 'allow', rules: [{ effect: 'deny' }, { effect: 'deny', when: 'args.path +' }] },
        },
      },
    });
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe('policies.services.fs.rules[1].when');
    expect(found[0]!.message).toMatch(/^condition does not compile: /);
  });

  it('a condition that is not a bool, or names an unknown variable, does not compile', () => {
    for (const when of ['1 + 2', 'user.name == "x"', 'tool.startsWith(1)', 'args.path.size() > "a"']) {
      const found = issues({
        services,
        policies: { services: { fs: { default: 'allow', rules: [{ effect: 'deny', when }] } } },
      });
      expect([when, found[0]?.path]).toEqual([when, 'policies.services.fs.rules[0].when']);
    }
  });

  it('tool patterns: only tool-name characters and *; hide rules take no condition; unknown fields are errors', () => {
    const found = issues({
      services,
      policies: {
        services: {
          fs: {
            default: 'allow',
            rules: [
              { effect: 'hide', tools: ['fs read'] },
              { effect: 'hide', when: 'true' },
              { effect: 'allow', user: ['local:alice'] },
            ],
          },
        },
      },
    });
    expect(found.map((i) => i.path)).toEqual([
      'policies.services.fs.rules[0].tools[0]',
      'policies.services.fs.rules[1].when',
      'policies.services.fs.rules[2].user',
    ]);
  });

  it('default is required: a policy says what happens to tools no rule allows', () => {
    expect(issues({ services, policies: { services: { fs: { rules: [] } } } }).map((i) => i.path)).toEqual([
      'policies.services.fs.default',
    ]);
  });

  it('the JSON Schema describes policies', () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string }> };
    expect(schema.properties.policies?.description).toMatch(/Per-tool policy/);
  });

  it('config check: policy users that can never match, and GitHub groups without idp.groups, are named', () => {
    const { config } = resolveConfig({
      idp: { type: 'github', clientId: 'c', clientSecret: 's', allowedUsers: ['*'] },
      services,
      policies: {
        services: {
          fs: {
            default: 'allow',
            rules: [{ effect: 'deny', users: ['octocat', 'github:1'], groups: ['github-team:7'] }],
          },
        },
      },
    });
    expect(subjectWarnings(config)).toEqual([
      'policies.services.fs.rules[0].users: "octocat" is not a user id: logins never match; write github:<numeric id> (a signed-in user finds theirs on /account)',
      'policies.services.fs.rules[0].groups: GitHub sign-ins carry no groups unless idp.groups is true',
    ]);
  });
});
