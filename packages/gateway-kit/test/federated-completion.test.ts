// Issue 20, `completion/complete` on a federated endpoint: routed to the member owning the prompt
// (its shown name mapped back to the member's own) or the resource template (URIs are not
// rewritten), in both eras (MCP SDK 1.x client in a 2025-11-25 session, SDK 2.x client pinned to
// 2026-07-28); `completions` is declared only when a member declares it. Real gateway on
// 127.0.0.1, the testkit's stdio fixture (its `pick` prompt and `fixture://items/{id}` template
// complete by prefix) and the built-in fetch service (no completions).
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fixtureMcpServerCommand } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';

const V2026 = '2026-07-28';
let gw: Gateway;
let url: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  ({ gw, url } = await listeningGateway({
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      fixture: { type: 'stdio', ...fixtureMcpServerCommand() },
    },
    federated: [
      { path: '/mcp', services: ['fetch', 'fixture'], prefix: 'always', separator: '.' },
      { path: '/plain', services: ['fetch'] },
    ],
  }));
  await gw.users.put('alice', 'alice-password-1');
  for (const path of ['/mcp', '/plain']) tokens[path] = (await issueToken(gw, 'alice', path)).access_token;
});

const auth = (path: string) => ({ requestInit: { headers: { authorization: `Bearer ${tokens[path]}` } } });

async function sdk1(path = '/mcp') {
  const client = new ClientV1({ name: 'sdk1', version: '1' });
  await client.connect(new TransportV1(new URL(`${url}${path}`), auth(path)));
  return client;
}

async function sdk2(path = '/mcp') {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { versionNegotiation: { mode: { pin: V2026 } } },
  );
  await client.connect(new TransportV2(new URL(`${url}${path}`), auth(path)));
  return client;
}

type Completer = ClientV1 | ClientV2;
const values = async (client: Completer, ref: Record<string, string>, name: string, value: string) =>
  (
    await (client as ClientV1).complete({
      ref: ref as { type: 'ref/prompt'; name: string },
      argument: { name, value },
    })
  ).completion.values;

describe('completion/complete on a federated endpoint', () => {
  it.each([
    ['2025-11-25 session (SDK 1.x)', sdk1],
    ['2026-07-28 (SDK 2.x)', sdk2],
  ] as const)(
    '%s: a prompt argument and a template variable complete through their owner',
    async (_e, make) => {
      const client = await make();
      try {
        expect(client.getServerCapabilities()?.completions).toEqual({});
        expect(await values(client, { type: 'ref/prompt', name: 'fixture.pick' }, 'color', 'g')).toEqual([
          'green',
        ]);
        const template = { type: 'ref/resource', uri: 'fixture://items/{id}' };
        expect(await values(client, template, 'id', 'b')).toEqual(['beta']);
        // The prompt's name as the member knows it is not the endpoint's.
        await expect(
          values(client, { type: 'ref/prompt', name: 'pick' }, 'color', 'g'),
        ).rejects.toMatchObject({
          code: -32602,
        });
      } finally {
        await client.close();
      }
    },
  );

  it.each([
    ['2025-11-25 session (SDK 1.x)', sdk1],
    ['2026-07-28 (SDK 2.x)', sdk2],
  ] as const)('%s: an endpoint whose members have no completions does not declare them', async (_e, make) => {
    const client = await make('/plain');
    try {
      expect(client.getServerCapabilities()?.completions).toBeUndefined();
      expect(client.getServerCapabilities()?.tools).toBeDefined();
    } finally {
      await client.close();
    }
  });
});
