import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOAuthSession, EXIT_CODES, MemoryTokenStore, parsePrivateKey } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { autoBrowser } from './helpers/flow.js';
import {
  CIMD_URL,
  CLIENT_ID,
  CLIENT_SECRET,
  ID_TOKEN,
  IDP_CLIENT_ID,
  startM2mServer,
  type M2mServer,
} from './helpers/m2m-server.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

async function server(opts: Parameters<typeof startM2mServer>[0] = {}): Promise<M2mServer> {
  const s = await startM2mServer(opts);
  cleanup.push(() => s.close());
  return s;
}

async function home(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'm2m-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `--url` and a client_credentials client with `secret`. */
const withSecret = (s: M2mServer, secret: string) => [
  '--url',
  s.mcpUrl,
  '--grant',
  'client-credentials',
  '--client-id',
  CLIENT_ID,
  '--client-secret',
  secret,
];

const asHits = (s: M2mServer) => s.tokens.filter((t) => t.endpoint === 'as');

describe('client_credentials grant (OAuth 2.1 §4.2, MCP SEP-1046): no browser', () => {
  it('sep-1046: --grant client-credentials with a secret authenticates with client_secret_basic, sends resource, and the MCP request succeeds', async () => {
    const s = await server();
    const h = await home();
    const run = await cli(['tools', 'list', ...withSecret(s, CLIENT_SECRET)], {
      env: { MCP_CLIENT_HOME: h },
    });
    expect(run.stderr).not.toContain('To sign in');
    expect(run.code).toBe(EXIT_CODES.ok);
    expect(run.stdout).toContain('whoami');
    expect(asHits(s)).toHaveLength(1);
    expect(asHits(s)[0]!.form).toMatchObject({ grant_type: 'client_credentials', resource: s.mcpUrl });
    expect(run.stderr).not.toContain(CLIENT_SECRET);
  });

  it('rfc7523 §2.2: with --private-key (PEM, EC P-256) the assertion is ES256 with iss = sub = client_id, aud = the issuer, a jti and a short exp; nothing secret is stored', async () => {
    const s = await server({ metadata: { token_endpoint_auth_signing_alg_values_supported: ['ES256'] } });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    s.setClientKey(pair.publicKey, 'ES256');
    const h = await home();
    const keyFile = path.join(h, 'key.pem');
    await writeFile(keyFile, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const args = ['--url', s.mcpUrl, '--grant', 'client-credentials', '--client-id', CLIENT_ID];
    const run = await cli(['login', ...args, '--private-key', keyFile, '--json'], {
      env: { MCP_CLIENT_HOME: h },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT_CODES.ok);
    const hit = asHits(s)[0]!;
    expect(hit.authorization).toBeNull();
    expect(hit.assertion).toMatchObject({
      verified: true,
      header: { alg: 'ES256' },
      claims: { iss: CLIENT_ID, sub: CLIENT_ID, aud: s.issuer },
    });
    const claims = hit.assertion!.claims as { jti?: unknown; exp: number };
    expect(typeof claims.jti).toBe('string');
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(300);
    const status = await cli(['status', '--url', s.mcpUrl, '--json'], { env: { MCP_CLIENT_HOME: h } });
    expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: true, clientId: CLIENT_ID });
    const { readdir, readFile } = await import('node:fs/promises');
    const stored = await Promise.all(
      (await readdir(h, { recursive: true }))
        .filter((f) => f.endsWith('.json'))
        .map((f) => readFile(path.join(h, f), 'utf8')),
    );
    expect(stored.join('')).toContain('private_key_jwt');
    expect(stored.join('')).not.toContain('"d"');
  });

  it('rfc7523 §2.2: a JWK RSA key signs RS256 by default, and PS256 when the server lists only PS256', async () => {
    for (const [supported, alg] of [
      [undefined, 'RS256'],
      [['PS256'], 'PS256'],
    ] as const) {
      const s = await server(
        supported ? { metadata: { token_endpoint_auth_signing_alg_values_supported: supported } } : {},
      );
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      s.setClientKey(pair.publicKey, alg);
      const jwk = JSON.stringify({ ...pair.privateKey.export({ format: 'jwk' }), kid: 'k1' });
      const session = createOAuthSession({
        serverUrl: s.mcpUrl,
        store: new MemoryTokenStore(),
        grant: 'client_credentials',
        staticClient: { client_id: CLIENT_ID },
        privateKey: parsePrivateKey(jwk, 'test JWK'),
      });
      await session.login();
      expect(asHits(s)[0]!.assertion).toMatchObject({ verified: true, header: { alg, kid: 'k1' } });
    }
  });

  it('errors name the server and the rule: a refused client_credentials grant is an auth failure (exit 3) naming the token endpoint and the error code', async () => {
    const s = await server();
    const run = await cli(['tools', 'list', ...withSecret(s, 'wrong')], {
      env: { MCP_CLIENT_HOME: await home() },
    });
    expect(run.code).toBe(EXIT_CODES.auth);
    expect(run.stderr).toContain(`client_credentials grant at ${s.url}/token failed: invalid_client`);
    expect(run.stderr).not.toContain('wrong');
  });

  it('usage: --grant client-credentials needs a client id and a secret or key; an unknown grant is refused (exit 2)', async () => {
    const env = { MCP_CLIENT_HOME: await home() };
    const url = 'http://127.0.0.1:9/mcp';
    const noClient = await cli(['tools', 'list', '--url', url, '--grant', 'client-credentials'], { env });
    expect(noClient.code).toBe(EXIT_CODES.usage);
    expect(noClient.stderr).toContain('pre-registered client');
    const noSecret = await cli(
      ['tools', 'list', '--url', url, '--grant', 'client-credentials', '--client-id', 'x'],
      {
        env,
      },
    );
    expect(noSecret.code).toBe(EXIT_CODES.usage);
    expect(noSecret.stderr).toContain('a client secret or a private key');
    const unknown = await cli(['tools', 'list', '--url', url, '--grant', 'implicit'], { env });
    expect(unknown.code).toBe(EXIT_CODES.usage);
  });
});

describe('cross-app access (MCP SEP-990): RFC 8693 token exchange for an ID-JAG, then the RFC 7523 JWT bearer grant', () => {
  async function credentialsFile(s: M2mServer, dir: string): Promise<string> {
    const file = path.join(dir, 'creds.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'ignored',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        idp_client_id: IDP_CLIENT_ID,
        idp_id_token: ID_TOKEN,
        idp_token_endpoint: `${s.url}/idp/token`,
      }),
    );
    return file;
  }

  it('sep-990: --grant id-jag exchanges the ID token at the IdP (audience = AS issuer, resource = MCP resource), then presents the ID-JAG with client_secret_basic', async () => {
    const s = await server();
    const h = await home();
    const file = await credentialsFile(s, h);
    const run = await cli(
      ['tools', 'list', '--url', s.mcpUrl, '--grant', 'id-jag', '--client-credentials-file', file],
      { env: { MCP_CLIENT_HOME: h } },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT_CODES.ok);
    expect(run.stdout).toContain('whoami');
    const [exchange, bearer] = s.tokens;
    expect(exchange).toMatchObject({
      endpoint: 'idp',
      form: {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        audience: s.issuer,
        resource: s.mcpUrl,
      },
    });
    expect(bearer).toMatchObject({
      endpoint: 'as',
      form: { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', resource: s.mcpUrl },
    });
    expect(bearer!.authorization).toMatch(/^Basic /);
  });

  it('rfc8693 §2.2.1: an IdP that issues another token type is refused, naming the IdP token endpoint and the rule (exit 3)', async () => {
    const s = await server({ issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token' });
    const h = await home();
    const run = await cli(
      [
        'tools',
        'list',
        '--url',
        s.mcpUrl,
        '--grant',
        'id-jag',
        '--client-credentials-file',
        await credentialsFile(s, h),
      ],
      { env: { MCP_CLIENT_HOME: h } },
    );
    expect(run.code).toBe(EXIT_CODES.auth);
    expect(run.stderr).toContain(`identity provider ${s.url}/idp/token`);
    expect(run.stderr).toContain('issued_token_type');
    expect(asHits(s)).toHaveLength(0);
  });

  it('usage: --grant id-jag without the IdP settings names what is missing (exit 2)', async () => {
    const run = await cli(
      [
        'tools',
        'list',
        '--url',
        'http://127.0.0.1:9/mcp',
        '--grant',
        'id-jag',
        '--client-id',
        'c',
        '--idp-token-endpoint',
        'http://127.0.0.1:9/token',
      ],
      { env: { MCP_CLIENT_HOME: await home() } },
    );
    expect(run.code).toBe(EXIT_CODES.usage);
    expect(run.stderr).toContain('--idp-client-id, --idp-id-token');
  });
});

describe('--client-credentials-file', () => {
  it('bound: a credentials or key file over 64 KiB is refused before it is parsed (exit 2); a malformed field is named without its value', async () => {
    const h = await home();
    const big = path.join(h, 'big.json');
    await writeFile(big, JSON.stringify({ client_id: 'c', pad: 'x'.repeat(64 * 1024) }));
    const args = ['tools', 'list', '--url', 'http://127.0.0.1:9/mcp', '--grant', 'client-credentials'];
    const tooBig = await cli([...args, '--client-credentials-file', big], { env: { MCP_CLIENT_HOME: h } });
    expect(tooBig.code).toBe(EXIT_CODES.usage);
    expect(tooBig.stderr).toContain('larger than 65536 bytes');
    const bigKey = await cli([...args, '--client-id', 'c', '--private-key', big], {
      env: { MCP_CLIENT_HOME: h },
    });
    expect(bigKey.code).toBe(EXIT_CODES.usage);
    expect(bigKey.stderr).toContain('larger than 65536 bytes');
    const bad = path.join(h, 'bad.json');
    await writeFile(bad, JSON.stringify({ client_id: 'c', idp_token_endpoint: 'not a url secret-ish' }));
    const malformed = await cli([...args, '--client-credentials-file', bad], { env: { MCP_CLIENT_HOME: h } });
    expect(malformed.code).toBe(EXIT_CODES.usage);
    expect(malformed.stderr).toContain('idp_token_endpoint');
    expect(malformed.stderr).not.toContain('secret-ish');
  });
});

describe('Client ID Metadata Documents (MCP 2025-11-25)', () => {
  it('cimd: when the AS advertises client_id_metadata_document_supported, --client-metadata-url is the client_id and nothing is registered', async () => {
    const s = await server({
      metadata: {
        authorization_endpoint: '{base}/authorize',
        code_challenge_methods_supported: ['S256'],
        client_id_metadata_document_supported: true,
        token_endpoint_auth_methods_supported: ['none'],
      },
    });
    const browser = autoBrowser();
    const store = new MemoryTokenStore();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      clientMetadataUrl: CIMD_URL,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    await session.login();
    expect(new URL(browser.urls[0]!).searchParams.get('client_id')).toBe(CIMD_URL);
    expect(asHits(s)[0]!.form).toMatchObject({ grant_type: 'authorization_code', client_id: CIMD_URL });
    expect((await store.list(s.mcpUrl))[0]!.client).toMatchObject({ client_id: CIMD_URL, source: 'cimd' });
  });
});
