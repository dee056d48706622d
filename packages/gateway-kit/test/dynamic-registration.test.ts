import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import type { GatewayConfigInput } from '../src/config/schema.js';
import { demoServerPath } from '../src/config/defaults.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';

const demo = { type: 'stdio' as const, command: process.execPath, args: [demoServerPath()] };
const open: Array<{ gw: Gateway; srv: Listening }> = [];
afterAll(async () => {
  for (const { gw, srv } of open) {
    await srv.close();
    await gw.close();
  }
});

/** A gateway on 127.0.0.1 whose issuer is its own URL. */
async function listeningGateway(extra: Partial<GatewayConfigInput>): Promise<string> {
  const late: { gw?: Gateway } = {};
  const srv = await listen((req) => late.gw!.fetch(req));
  const { config } = resolveConfig(
    { store: { type: 'memory' }, services: { demo }, ...extra, issuer: srv.url },
    { env: {} },
  );
  late.gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  open.push({ gw: late.gw, srv });
  return srv.url;
}

const registration = {
  redirect_uris: ['http://127.0.0.1:7777/cb'],
  token_endpoint_auth_method: 'none',
  client_name: 'switch test',
};
const register = (url: string) =>
  fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(registration),
  });
const metadata = async (url: string) =>
  (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;

describe('authorization.dynamicRegistration', () => {
  it('by default the gateway serves dynamic registration and advertises Client ID Metadata Documents', async () => {
    const url = await listeningGateway({});
    const meta = await metadata(url);
    expect(meta.registration_endpoint).toBe(`${url}/register`);
    expect(meta.client_id_metadata_document_supported).toBe(true);
    // Issue 19: the MCP routes check DPoP proofs, so the gateway advertises DPoP (RFC 9449 §5.1).
    expect(meta.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'EdDSA']));
    expect((await register(url)).status).toBe(201);
  });

  it('dynamicRegistration: false drops registration_endpoint, /register answers a JSON 404, CIMD stays advertised', async () => {
    const url = await listeningGateway({ authorization: { dynamicRegistration: false } });
    const meta = await metadata(url);
    expect(meta).not.toHaveProperty('registration_endpoint');
    expect(meta.client_id_metadata_document_supported).toBe(true);
    const res = await register(url);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ error: expect.any(String) as string });
  });

  it('dynamicRegistration: false leaves /register out of /openapi.json; on by default it is listed', async () => {
    const paths = async (url: string) =>
      Object.keys(((await (await fetch(`${url}/openapi.json`)).json()) as { paths: object }).paths);
    const off = await paths(await listeningGateway({ authorization: { dynamicRegistration: false } }));
    expect(off).not.toContain('/register');
    expect(off).not.toContain('/register/{id}');
    expect(off).toContain('/token');
    expect(await paths(await listeningGateway({}))).toEqual(
      expect.arrayContaining(['/register', '/register/{id}']),
    );
  });
});
