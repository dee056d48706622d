// DNS rebinding: the gateway answers only the host names it is known by
// (issuer, service and protected-resource hosts, `allowedHosts`; every
// loopback name for a loopback issuer). Raw node:http requests carry the
// foreign Host headers a browser would send after a rebinding.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import { listeningGateway as start } from './helpers/listening.js';

/** One raw request to 127.0.0.1:`port` with exactly these headers (Host included). */
function raw(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: res.headers['content-type'], body: text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const METADATA = '/.well-known/oauth-authorization-server';

describe('dns rebinding: Host must name this gateway', () => {
  it('with an issuer: a foreign Host gets 421 misdirected_request on every route; the issuer host and allowedHosts are served', async () => {
    const { gw, port } = await start({
      issuer: 'https://mcp.example.com',
      allowedHosts: ['alt.example.com'],
    });
    for (const path of [METADATA, '/metrics', '/servers', '/account', '/openapi.json', '/authorize']) {
      const res = await raw(port, path, { host: 'rebound.attacker.example' });
      expect([path, res.status]).toEqual([path, 421]);
      expect(res.type).toContain('application/json');
      expect(JSON.parse(res.body)).toEqual({
        error: 'misdirected_request',
        error_description: 'this server does not serve the requested host',
      });
    }
    expect((await raw(port, METADATA, { host: 'mcp.example.com' })).status).toBe(200);
    expect((await raw(port, METADATA, { host: 'MCP.example.com:443' })).status).toBe(200);
    expect((await raw(port, METADATA, { host: 'alt.example.com:8443' })).status).toBe(200);
    // A loopback name is foreign to a public issuer.
    expect((await raw(port, METADATA, { host: `127.0.0.1:${port}` })).status).toBe(421);
    // The MCP route too, whichever way it is served (the stdio node fast path here).
    await gw.users.put('alice', 'alice-password-1');
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const mcp = await raw(
      port,
      '/demo/mcp',
      {
        host: 'rebound.attacker.example',
        authorization: `Bearer ${access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      'POST',
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    );
    expect(mcp.status).toBe(421);
  });

  it('probes and the ForwardAuth check answer on any host', async () => {
    const { port } = await start({ issuer: 'https://mcp.example.com' });
    expect((await raw(port, '/healthz', { host: '10.1.2.3:8080' })).status).toBe(200);
    expect((await raw(port, '/readyz', { host: '10.1.2.3:8080' })).status).toBe(200);
    expect((await raw(port, '/verify', { host: 'auth:8080' })).status).not.toBe(421);
  });

  it('a loopback issuer serves every loopback name (127.0.0.1 and localhost, as npm start prints) and nothing else', async () => {
    const { port } = await start({ issuer: 'http://127.0.0.1:8080' });
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
      expect([host, (await raw(port, METADATA, { host })).status]).toEqual([host, 200]);
    }
    for (const host of [
      `rebound.attacker.example:${port}`,
      `192.168.1.20:${port}`,
      'localhost.attacker.example',
    ]) {
      expect([host, (await raw(port, METADATA, { host })).status]).toEqual([host, 421]);
    }
  });

  it('trustProxy: X-Forwarded-Host is checked the same way; service and protected-resource hosts are served', async () => {
    const { port } = await start({
      issuer: 'https://mcp.example.com',
      trustProxy: true,
      services: { f: { type: 'fetch', host: 'fetch.example.com' } },
      protectedResources: [{ resource: 'https://memory.example.com/mcp', scopes: ['mcp:memory'] }],
    });
    const internal = { host: 'gateway-1:8080' };
    expect((await raw(port, METADATA, { ...internal, 'x-forwarded-host': 'mcp.example.com' })).status).toBe(
      200,
    );
    expect(
      (await raw(port, METADATA, { ...internal, 'x-forwarded-host': 'rebound.attacker.example' })).status,
    ).toBe(421);
    expect(
      (
        await raw(port, '/.well-known/oauth-protected-resource/mcp', {
          ...internal,
          'x-forwarded-host': 'fetch.example.com',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await raw(port, '/.well-known/oauth-protected-resource/mcp', {
          ...internal,
          'x-forwarded-host': 'memory.example.com',
        })
      ).status,
    ).not.toBe(421);
    // Without X-Forwarded-Host, the Host header itself is the public host.
    expect((await raw(port, METADATA, internal)).status).toBe(421);
  });
});
