// The issuer as configured may be written in any of the URL spellings that name one origin and
// path (upper-case scheme or host, the default port, a trailing slash). Clients compare issuers as
// exact strings (RFC 8414 §3.3, RFC 9207, MCP 2026-07-28 authorization discovery), so every
// document the gateway publishes names the one canonical form its authorization server uses.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/index.js';
import { listeningGateway as start } from './helpers/listening.js';

/** GET `path` from 127.0.0.1:`port` with `Host: host`, as JSON. */
function getJson(port: number, path: string, host: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode} ${text}`));
        else resolve(JSON.parse(text) as Record<string, unknown>);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the issuer is published in one canonical form', () => {
  it('config: scheme and host lower-cased, the default port and trailing slashes dropped, the path kept', () => {
    const issuer = (written: string) => resolveConfig({ issuer: written }).config.issuer;
    expect(issuer('HTTPS://MCP.Example.com:443/')).toBe('https://mcp.example.com');
    expect(issuer('https://mcp.example.com/base//')).toBe('https://mcp.example.com/base');
    expect(issuer('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });

  it('an issuer with a query, a fragment or a user name is a config error, not silently cut to its origin', () => {
    for (const written of ['https://gw.example/?x=1', 'https://gw.example/#f', 'https://u:p@gw.example/']) {
      expect(() => resolveConfig({ issuer: written }), written).toThrow(/issuer.*must not have a query/s);
    }
  });

  it('the protected-resource document names exactly the issuer of the authorization-server metadata', async () => {
    const { port } = await start({ issuer: 'HTTPS://MCP.Example.com:443/' });
    const host = 'mcp.example.com';
    const as = await getJson(port, '/.well-known/oauth-authorization-server', host);
    const prm = await getJson(port, '/.well-known/oauth-protected-resource/demo/mcp', host);
    expect(as.issuer).toBe('https://mcp.example.com');
    expect(prm.authorization_servers).toEqual([as.issuer]);
    expect(prm.resource).toBe('https://mcp.example.com/demo/mcp');
  });
});
