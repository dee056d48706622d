import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, createOAuthSession, EXIT_CODES, MemoryTokenStore } from '../src/index.js';
import { cli } from './helpers/cli.js';
import {
  challenge401,
  goodAsMetadata,
  goodPrm,
  json,
  startFakeServer,
  type Route,
} from './helpers/fake-as.js';

// Workload identity federation (MCP SEP-1933): the platform's JWT as the RFC 7523 JWT-bearer
// assertion, and DPoP (RFC 9449) on that grant, against a small real authorization server.
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const jwt = (sub: string) =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.c2ln`;

interface TokenHit {
  form: Record<string, string>;
  dpop: string | null;
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

async function workloadServer(token: (hit: TokenHit) => Response, metadata: Record<string, unknown> = {}) {
  const hits: TokenHit[] = [];
  const asMetadata: Route = async (req, base) => {
    const body = (await (await goodAsMetadata(req, base)).json()) as Record<string, unknown>;
    return json({ ...body, grant_types_supported: [JWT_BEARER], ...metadata });
  };
  const s = await startFakeServer({
    '/mcp': challenge401,
    '/prm': goodPrm,
    '/.well-known/oauth-authorization-server': asMetadata,
    'POST /token': async (req) => {
      const hit = {
        form: Object.fromEntries(new URLSearchParams(await req.text())),
        dpop: req.headers.get('dpop'),
      };
      hits.push(hit);
      return token(hit);
    },
  });
  cleanup.push(() => s.close());
  return { ...s, hits, mcpUrl: `${s.url}/mcp` };
}

async function tokenFile(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wif-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'token');
  await writeFile(file, content);
  return file;
}

const claimsOf = (proof: string) =>
  JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('workload identity (SEP-1933): --workload-token and the RFC 7523 JWT-bearer grant', () => {
  it('rfc7523 §2.1: the file is the assertion of the jwt-bearer grant (with resource, no client), read again on every token request', async () => {
    const s = await workloadServer(() =>
      json({ access_token: 'at-1', token_type: 'Bearer', expires_in: 60 }),
    );
    const file = await tokenFile(`${jwt('first')}\n`);
    const home = path.dirname(file);
    const args = ['login', '--url', s.mcpUrl, '--workload-token', file, '--json'];
    const first = await cli(args, { env: { MCP_CLIENT_HOME: home } });
    expect(first.code, first.stderr).toBe(EXIT_CODES.ok);
    expect(first.stderr).not.toContain('To sign in');
    await writeFile(file, jwt('rotated'));
    const second = await cli(args, { env: { MCP_CLIENT_HOME: home } });
    expect(second.code, second.stderr).toBe(EXIT_CODES.ok);
    expect(s.hits.map((h) => h.form)).toEqual([
      { grant_type: JWT_BEARER, assertion: jwt('first'), resource: s.mcpUrl },
      { grant_type: JWT_BEARER, assertion: jwt('rotated'), resource: s.mcpUrl },
    ]);
    expect(`${first.stdout}${first.stderr}`).not.toContain(jwt('first'));
  });

  it('sep-1933: an error from the token endpoint is reported once, never retried or traded for another grant', async () => {
    const s = await workloadServer(() => json({ error: 'invalid_grant', error_description: 'expired' }, 400));
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store: new MemoryTokenStore(),
      workloadToken: () => jwt('w'),
    });
    const err = await session.login().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe('invalid_grant');
    expect(s.hits).toHaveLength(1);
  });

  it('rfc9449 §5, §8: with DPoP advertised the jwt-bearer request carries a proof, a use_dpop_nonce answer is retried with the nonce, and the DPoP-bound token is stored with its key', async () => {
    const s = await workloadServer(
      (hit) =>
        hit.dpop && claimsOf(hit.dpop).nonce === 'n-1'
          ? json({ access_token: 'at-dpop', token_type: 'DPoP', expires_in: 60 })
          : json({ error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': 'n-1' }),
      { dpop_signing_alg_values_supported: ['ES256'] },
    );
    const store = new MemoryTokenStore();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      staticClient: { client_id: 'workload-client' },
      workloadToken: () => jwt('w'),
    });
    const tokens = await session.login();
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(s.hits).toHaveLength(2);
    const [first, second] = s.hits.map((h) => claimsOf(h.dpop!));
    expect(first!.nonce).toBeUndefined();
    expect(second).toMatchObject({ htm: 'POST', htu: `${s.url}/token`, nonce: 'n-1' });
    expect(second!.jti).not.toBe(first!.jti);
    expect(s.hits[1]!.form).toMatchObject({ client_id: 'workload-client', grant_type: JWT_BEARER });
    const rec = (await store.list(s.mcpUrl))[0]!;
    expect(rec.dpop_key?.alg).toBe('ES256');
    expect(await session.dpopFor('at-dpop')).toBeDefined();
    expect(await session.dpopFor('another-token')).toBeUndefined();
  });
});
