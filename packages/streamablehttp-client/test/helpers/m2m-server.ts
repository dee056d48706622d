/**
 * A real HTTP server on 127.0.0.1 playing an MCP server, its authorization
 * server and an enterprise IdP, for the grants without a browser:
 * client_credentials (client_secret_basic or private_key_jwt, SEP-1046),
 * RFC 8693 token exchange for an ID-JAG at the IdP and the RFC 7523 JWT
 * bearer grant at the AS (SEP-990), and the authorization-code flow for a
 * Client ID Metadata Document client. Every token request is recorded with
 * its form and the decoded client assertion; the AS answers like a strict
 * one (`invalid_client`, `invalid_grant`) when a rule is broken.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { json } from './fake-as.js';

export const CLIENT_ID = 'm2m-client';
export const CLIENT_SECRET = 's3cret:with/odd chars';
export const IDP_CLIENT_ID = 'idp-client';
export const ID_TOKEN = 'user-id-token';
export const CIMD_URL = 'https://client.example/metadata.json';

/** One request at a token endpoint. */
export interface TokenHit {
  endpoint: 'as' | 'idp';
  form: Record<string, string>;
  authorization: string | null;
  /** Header and claims of `client_assertion`, when present. */
  assertion?: { header: Record<string, unknown>; claims: Record<string, unknown>; verified: boolean };
}

export interface M2mServer extends Listening {
  mcpUrl: string;
  issuer: string;
  tokens: TokenHit[];
  /** The public key `private_key_jwt` assertions must verify with. */
  setClientKey(key: KeyObject, alg: 'ES256' | 'RS256' | 'PS256'): void;
}

export interface M2mOptions {
  /** Extra AS metadata fields (e.g. signing algorithms, CIMD support). */
  metadata?: Record<string, unknown>;
  /** What the IdP answers as `issued_token_type`. */
  issuedTokenType?: string;
}

const b64json = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

function signJwt(header: object, claims: object, key: KeyObject): string {
  const data = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const sig = sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
  return `${data}.${sig.toString('base64url')}`;
}

function verifyJwt(jwt: string, key: KeyObject, alg: string): boolean {
  const [h, c, s] = jwt.split('.');
  const data = Buffer.from(`${h}.${c}`);
  const sig = Buffer.from(s ?? '', 'base64url');
  if (alg === 'ES256') return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  if (alg === 'PS256') return verify('sha256', data, { key, padding: 6, saltLength: 32 }, sig);
  return verify('sha256', data, key, sig);
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function startM2mServer(opts: M2mOptions = {}): Promise<M2mServer> {
  const tokens: TokenHit[] = [];
  const issued = new Set<string>();
  const idpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let clientKey: { key: KeyObject; alg: string } | undefined;
  const box = { base: '' };
  const oauthError = (error: string, description: string, status = 400) =>
    json({ error, error_description: description }, status);
  const issue = (scope?: string) => {
    const access_token = `at-${randomUUID()}`;
    issued.add(access_token);
    return json({ access_token, token_type: 'Bearer', expires_in: 3600, ...(scope ? { scope } : {}) });
  };

  const asToken = (hit: TokenHit): Response => {
    const f = hit.form;
    const issuer = `${box.base}/`;
    if (f.grant_type === 'authorization_code') {
      // A CIMD client is public: its URL is the client_id, and it proves the code with PKCE.
      if (f.client_id !== CIMD_URL || !f.code_verifier || f.code !== 'the-code' || hit.authorization)
        return oauthError('invalid_grant', 'bad code exchange');
      return issue();
    }
    if (f.client_assertion) {
      if (f.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        return oauthError('invalid_client', 'bad client_assertion_type', 401);
      const [h, c] = f.client_assertion.split('.');
      const header = b64json(h!);
      const claims = b64json(c!);
      const verified = Boolean(clientKey && verifyJwt(f.client_assertion, clientKey.key, clientKey.alg));
      hit.assertion = { header, claims, verified };
      const now = Date.now() / 1000;
      const ok =
        verified &&
        header.alg === clientKey!.alg &&
        claims.iss === CLIENT_ID &&
        claims.sub === CLIENT_ID &&
        claims.aud === issuer &&
        typeof claims.jti === 'string' &&
        typeof claims.exp === 'number' &&
        claims.exp > now &&
        claims.exp <= now + 300;
      if (!ok) return oauthError('invalid_client', 'client assertion rejected', 401);
    } else if (hit.authorization !== basic(CLIENT_ID, CLIENT_SECRET)) {
      return oauthError('invalid_client', 'client authentication failed', 401);
    }
    if (f.resource !== `${box.base}/mcp`) return oauthError('invalid_target', 'wrong resource');
    if (f.grant_type === 'client_credentials') return issue(f.scope);
    if (f.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const [h, c] = (f.assertion ?? '').split('.');
      if (!h || !c) return oauthError('invalid_grant', 'no assertion');
      const header = b64json(h);
      const claims = b64json(c);
      const good =
        header.typ === 'oauth-id-jag+jwt' &&
        verifyJwt(f.assertion!, createPublicKey(idpKey.privateKey), 'ES256') &&
        claims.aud === issuer &&
        claims.client_id === CLIENT_ID &&
        claims.resource === `${box.base}/mcp`;
      return good ? issue(f.scope) : oauthError('invalid_grant', 'ID-JAG rejected');
    }
    return oauthError('unsupported_grant_type', String(f.grant_type));
  };

  const idpToken = (hit: TokenHit): Response => {
    const f = hit.form;
    if (
      f.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange' ||
      f.requested_token_type !== 'urn:ietf:params:oauth:token-type:id-jag' ||
      f.subject_token_type !== 'urn:ietf:params:oauth:token-type:id_token' ||
      f.subject_token !== ID_TOKEN ||
      f.client_id !== IDP_CLIENT_ID ||
      !f.audience ||
      !f.resource
    ) {
      return oauthError('invalid_request', 'bad token exchange');
    }
    const now = Math.floor(Date.now() / 1000);
    const jag = signJwt(
      { alg: 'ES256', typ: 'oauth-id-jag+jwt' },
      {
        iss: `${box.base}/idp`,
        sub: 'alice',
        aud: f.audience,
        resource: f.resource,
        client_id: CLIENT_ID,
        jti: randomUUID(),
        iat: now,
        exp: now + 300,
      },
      idpKey.privateKey,
    );
    return json({
      access_token: jag,
      issued_token_type: opts.issuedTokenType ?? 'urn:ietf:params:oauth:token-type:id-jag',
      token_type: 'N_A',
      expires_in: 300,
    });
  };

  const l = await listen(async (req) => {
    const url = new URL(req.url);
    const route = `${req.method} ${url.pathname}`;
    const base = box.base;
    if (route === 'GET /.well-known/oauth-protected-resource/mcp')
      return json({ resource: `${base}/mcp`, authorization_servers: [`${base}/`] });
    if (route === 'GET /.well-known/oauth-authorization-server')
      return json({
        issuer: `${base}/`,
        token_endpoint: `${base}/token`,
        grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
        ...Object.fromEntries(
          Object.entries(opts.metadata ?? {}).map(([k, v]) => [
            k,
            typeof v === 'string' ? v.replace('{base}', base) : v,
          ]),
        ),
      });
    if (route === 'GET /authorize') {
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', 'the-code');
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      return new Response(null, { status: 302, headers: { location: back.href } });
    }
    if (route === 'POST /token' || route === 'POST /idp/token') {
      const form = Object.fromEntries(new URLSearchParams(await req.text()));
      const hit: TokenHit = {
        endpoint: route === 'POST /token' ? 'as' : 'idp',
        form,
        authorization: req.headers.get('authorization'),
      };
      tokens.push(hit);
      return hit.endpoint === 'as' ? asToken(hit) : idpToken(hit);
    }
    if (url.pathname === '/mcp') {
      const token = /^Bearer (.+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
      if (!token || !issued.has(token)) {
        return json({ error: 'invalid_token' }, 401, {
          'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`,
        });
      }
      if (req.method !== 'POST') return new Response(null, { status: 405 });
      const msg = (await req.json()) as { id?: number; method: string };
      if (msg.id === undefined) return new Response(null, { status: 202 });
      const result =
        msg.method === 'initialize'
          ? {
              protocolVersion: '2025-06-18',
              capabilities: { tools: {} },
              serverInfo: { name: 'm2m', version: '1' },
            }
          : { tools: [{ name: 'whoami', inputSchema: { type: 'object' } }] };
      return json({ jsonrpc: '2.0', id: msg.id, result });
    }
    return new Response('not found', { status: 404 });
  });
  box.base = l.url;
  return {
    ...l,
    mcpUrl: `${l.url}/mcp`,
    issuer: `${l.url}/`,
    tokens,
    setClientKey(key, alg) {
      clientKey = { key, alg };
    },
  };
}
