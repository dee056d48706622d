import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { subjectWarnings } from '../src/config/subjects.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';

const ISSUER = 'https://k8s.example/cluster-1';
const SUB = 'system:serviceaccount:jobs:crawler';

describe('gateway: workload identity federation (authorization.workloadIssuers)', () => {
  let gw: Gateway;
  let srv: Listening;
  let platform: Listening;
  let key: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    // The platform's key set, and the page the fetch service reads.
    platform = await listen((req) =>
      new URL(req.url).pathname === '/jwks'
        ? Response.json({ keys: [jwk] })
        : new Response('hello from the crawled page', { headers: { 'content-type': 'text/plain' } }),
    );
    const late: { gw?: Gateway } = {};
    srv = await listen((req) => late.gw!.fetch(req));
    const { config } = resolveConfig(
      {
        store: { type: 'memory' },
        issuer: srv.url,
        services: {
          fetch: {
            type: 'fetch',
            allowHosts: ['127.0.0.1'],
            ignoreRobotsTxt: true,
            users: [`workload:${ISSUER}#${SUB}`],
          },
        },
        authorization: {
          keyFetch: { allowLoopback: true },
          workloadIssuers: [
            {
              issuer: ISSUER,
              jwksUri: `${platform.url}/jwks`,
              subjects: [
                { subjectGlob: 'system:serviceaccount:jobs:*', client: 'jobs', scopes: ['mcp:fetch'] },
              ],
            },
          ],
        },
      },
      { env: {} },
    );
    expect(subjectWarnings(config)).toEqual([]);
    gw = late.gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  });
  afterAll(async () => {
    await gw?.close(0);
    await srv?.close();
    await platform?.close();
  });

  const assertion = (sub: string) =>
    new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setSubject(sub)
      .setAudience(srv.url)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(key);

  async function token(sub: string) {
    const res = await fetch(`${srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: await assertion(sub),
        resource: `${srv.url}/fetch/mcp`,
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  it('a workload JWT gets a token at /token and calls the fetch service as workload:<issuer>#<sub>', async () => {
    const got = await token(SUB);
    expect(got.status).toBe(200);
    const claims = decodeJwt(got.body.access_token!);
    expect(claims).toMatchObject({ sub: `workload:${ISSUER}#${SUB}`, client_id: 'jobs', scope: 'mcp:fetch' });
    const client = new Client({ name: 'workload-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/fetch/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${got.body.access_token}` } },
      }),
    );
    try {
      const result = await client.callTool({ name: 'fetch', arguments: { url: `${platform.url}/page` } });
      const text = (result.content as Array<{ type: string; text: string }>)[0]!.text;
      expect(text).toContain('hello from the crawled page');
    } finally {
      await client.close();
    }
  });

  it('a subject no rule maps gets invalid_grant', async () => {
    expect(await token('system:serviceaccount:other:thing')).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });
});
