// Per-tool policies through the admin API (issue 20): read, replaced (validated by the config's
// zod schema, stored), reset; a real gateway on 127.0.0.1 with a real stdio child.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fixtureMcpServerCommand } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { resolveConfig } from '../../src/config/load.js';
import { issueToken } from '../../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { createNodeServer, type NodeServer } from '../../src/http/node.js';
import { createLogger } from '../../src/ops/logger.js';
import { GatewayPolicy, RUNTIME_POLICIES_KEY } from '../../src/policy/gateway-policy.js';

let gw: Gateway;
let server: NodeServer;
let base: string;
let adminToken: string;
let aliceAdminToken: string;
let aliceFixture: string;

const fromFile = {
  services: { fixture: { default: 'allow', rules: [{ effect: 'hide', tools: ['crash'] }] } },
} as const;

beforeAll(async () => {
  const { config } = resolveConfig(
    {
      issuer: 'http://127.0.0.1',
      store: { type: 'memory' },
      services: { fixture: { type: 'stdio', ...fixtureMcpServerCommand() } },
      policies: fromFile,
    },
    { env: {} },
  );
  gw = await createGateway(config, {
    logger: createLogger('silent'),
    processMetrics: false,
    passwordCost: { N: 1024, r: 8, p: 1 },
  });
  await gw.users.put('admin', 'admin-password-1');
  await gw.users.put('alice', 'alice-password-1');
  adminToken = (await issueToken(gw, 'admin', 'admin')).access_token;
  aliceAdminToken = (await issueToken(gw, 'alice', 'admin')).access_token;
  aliceFixture = (await issueToken(gw, 'alice', 'fixture')).access_token;
  server = createNodeServer(gw.fetch);
  base = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server?.drain(0);
  await gw?.close(0);
});

function policies(method: string, body?: unknown, token = adminToken) {
  return fetch(`${base}/admin/policies`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** The fixture's tools as alice sees them, and the outcome of her `echo` call. */
async function asAlice(): Promise<{ tools: string[]; echo: string }> {
  const client = new Client(
    { name: 'admin-test', version: '1' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/fixture/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${aliceFixture}` } },
    }),
  );
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'hi' } }).then(
      (r) => (r as { content: Array<{ text: string }> }).content[0]!.text,
      (err: { code?: number }) => `error ${err.code}`,
    );
    return { tools, echo };
  } finally {
    await client.close();
  }
}

const replacement = {
  services: {
    fixture: {
      default: 'allow',
      rules: [{ effect: 'deny', tools: ['echo'], users: ['local:alice'], reason: 'no echo today' }],
    },
  },
  endpoints: {},
};

describe('admin API: /admin/policies', () => {
  it('GET: the config file policies in the config shape (defaults filled in), marked as from the config', async () => {
    const res = await policies('GET');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-mcp-gateway-policy-source')).toBe('config');
    expect(await res.json()).toEqual({ services: fromFile.services, endpoints: {} });
  });

  it('only gateway admins: another user is refused with 403, no token with 401', async () => {
    expect((await policies('GET', undefined, aliceAdminToken)).status).toBe(403);
    expect((await policies('PUT', replacement, aliceAdminToken)).status).toBe(403);
    const anonymous = await fetch(`${base}/admin/policies`);
    expect(anonymous.status).toBe(401);
  });

  it.each([
    ['an unknown effect', { services: { fixture: { default: 'maybe' } } }, 'services.fixture.default'],
    [
      'a condition that does not compile',
      { services: { fixture: { default: 'allow', rules: [{ effect: 'deny', when: 'args.url.' }] } } },
      'services.fixture.rules[0].when',
    ],
    [
      'a hide rule with a condition',
      { services: { fixture: { default: 'allow', rules: [{ effect: 'hide', when: 'true' }] } } },
      'services.fixture.rules[0].when',
    ],
    ['an unknown field', { services: {}, extra: 1 }, 'extra'],
    [
      'a user id that can never match (a login, not local:<name>)',
      { services: { fixture: { default: 'allow', rules: [{ effect: 'deny', users: ['alice'] }] } } },
      'services.fixture.rules[0].users',
    ],
    ['a service that does not exist', { services: { nope: { default: 'deny' } } }, 'services.nope'],
  ])('PUT %s: 400 invalid_policies naming the path; nothing changes', async (_w, body, path) => {
    const res = await policies('PUT', body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; issues: Array<{ path: string; message: string }> };
    expect(json.error).toBe('invalid_policies');
    expect(json.issues.map((i) => i.path)).toContain(path);
    expect((await policies('GET')).headers.get('x-mcp-gateway-policy-source')).toBe('config');
  });

  it('PUT a body that is not JSON: 400 invalid_request', async () => {
    const res = await policies('PUT', '{not json');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('PUT a valid document: in force for the next request, stored for other instances; DELETE returns to the config file', async () => {
    expect(await asAlice()).toMatchObject({ echo: 'hi' });
    const put = await policies('PUT', replacement);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual(replacement);
    const read = await policies('GET');
    expect(read.headers.get('x-mcp-gateway-policy-source')).toBe('runtime');
    expect(await read.json()).toEqual(replacement);
    const after = await asAlice();
    expect(after.echo).toBe('error -31010'); // a 2026-07-28 client: -32010 in 2025
    // The config file's hide rule is replaced too.
    expect(after.tools).toContain('crash');
    // Stored: another instance on the same store picks it up.
    expect(await gw.store.get(RUNTIME_POLICIES_KEY)).toEqual(replacement);
    const other = new GatewayPolicy(gw.config.policies, { store: gw.store });
    expect(await other.refresh()).toBe(true);
    expect(other.document).toEqual(replacement);

    expect((await policies('DELETE')).status).toBe(204);
    expect((await policies('GET')).headers.get('x-mcp-gateway-policy-source')).toBe('config');
    const reset = await asAlice();
    expect(reset.echo).toBe('hi');
    expect(reset.tools).not.toContain('crash');
  });
});

describe('policies in the config file are validated at load', () => {
  it('a condition that does not compile is a ConfigError naming the policy path', () => {
    const load = () =>
      resolveConfig(
        {
          services: { fetch: { type: 'fetch' } },
          policies: {
            services: { fetch: { default: 'allow', rules: [{ effect: 'deny', when: 'args.url ==' }] } },
          },
        },
        { env: {} },
      );
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/policies\.services\.fetch\.rules\[0\]\.when: condition does not compile/);
  });
});
