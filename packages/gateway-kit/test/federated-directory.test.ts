// Issue 20: federated endpoints in the service directory (`/servers`, `/openapi.json`) of a
// real gateway on 127.0.0.1: each endpoint the caller may use (one member it may use is
// enough), with its URL and RFC 9728 document; one whose members are all another user's is
// left out, as such a service is.
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import { listeningGateway } from './helpers/listening.js';

let base: string;
const tokens: Record<string, string> = {};

interface Listed {
  name: string;
  type: string;
  url: string;
  resource_metadata: string;
  scopes: string[];
  services?: string[];
}

beforeAll(async () => {
  const { gw, url } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      open: { type: 'fetch', allowHosts: ['127.0.0.1'] },
      secret: { type: 'fetch', allowHosts: ['127.0.0.1'], users: ['local:alice'] },
    },
    federated: [
      { path: '/mcp', services: ['open', 'secret'] },
      { path: '/team/private', name: 'private', services: ['secret'], title: 'Private tools' },
    ],
  });
  base = url;
  for (const user of ['alice', 'bob']) {
    await gw.users.put(user, `${user}-password-1`);
    // A token for a federated endpoint names its user at /servers too.
    tokens[user] = (await issueToken(gw, user, '/mcp')).access_token;
  }
});

async function servers(user?: string): Promise<Listed[]> {
  const headers: Record<string, string> = user ? { authorization: `Bearer ${tokens[user]}` } : {};
  const res = await fetch(`${base}/servers`, { headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { servers: Listed[] }).servers;
}

const federated = (list: Listed[]) => list.filter((s) => s.type === 'federated');

describe('federated endpoints in the directory', () => {
  it('/servers lists an endpoint with the members the caller may use, its URL and RFC 9728 document', async () => {
    const mine = federated(await servers('alice'));
    expect(mine).toEqual([
      {
        name: 'mcp',
        title: 'open, secret (federated)',
        type: 'federated',
        url: 'http://127.0.0.1/mcp',
        resource_metadata: 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp',
        scopes: ['mcp:open', 'mcp:secret'],
        services: ['open', 'secret'],
      },
      {
        name: 'private',
        title: 'Private tools',
        type: 'federated',
        url: 'http://127.0.0.1/team/private',
        resource_metadata: 'http://127.0.0.1/.well-known/oauth-protected-resource/team/private',
        scopes: ['mcp:secret'],
        services: ['secret'],
      },
    ]);
    const doc = (await (await fetch(`${base}/.well-known/oauth-protected-resource/team/private`)).json()) as {
      resource: string;
    };
    expect(doc.resource).toBe('http://127.0.0.1/team/private');
  });

  it.each([['bob'], [undefined]])(
    'an endpoint whose members are all restricted is left out (%s)',
    async (user) => {
      const list = await servers(user);
      expect(federated(list).map((s) => [s.name, s.services])).toEqual([['mcp', ['open']]]);
      expect(list.map((s) => s.name)).not.toContain('secret');
    },
  );

  it('/openapi.json describes the endpoints the caller may use', async () => {
    const paths = async (user?: string) => {
      const headers: Record<string, string> = user ? { authorization: `Bearer ${tokens[user]}` } : {};
      const doc = (await (await fetch(`${base}/openapi.json`, { headers })).json()) as {
        paths: Record<string, unknown>;
      };
      return Object.keys(doc.paths);
    };
    expect(await paths('alice')).toEqual(
      expect.arrayContaining(['/mcp', '/team/private', '/.well-known/oauth-protected-resource/team/private']),
    );
    const anonymous = await paths();
    expect(anonymous).toContain('/mcp');
    expect(anonymous).not.toContain('/team/private');
  });
});
