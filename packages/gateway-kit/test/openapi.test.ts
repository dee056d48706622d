import { validate, compileErrors } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serviceSchema } from '../src/config/schema.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { serviceJsonSchema } from '../src/ops/openapi/schemas.js';
import { listeningGateway } from './helpers/listening.js';

interface Doc {
  paths: Record<string, Record<string, unknown> & { servers?: { url: string }[] }>;
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: {
      oauth2: {
        flows: { authorizationCode: { authorizationUrl: string; tokenUrl: string; scopes: object } };
      };
    };
  };
}
interface Operation {
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
const op = (doc: Doc, path: string, method: string) => doc.paths[path]![method] as Operation;
const METHODS = ['get', 'put', 'post', 'delete'];

async function servedGateway() {
  const { gw, url } = await listeningGateway({
    // The admin PUT below adds an http service on loopback.
    admin: { allowPrivateHttpServices: true },
    services: {
      docs: { type: 'fetch', allowHosts: ['127.0.0.1'] },
      hosted: { type: 'fetch', host: 'hosted.test' },
      secret: { type: 'fetch', users: ['local:alice'] },
    },
  });
  await gw.users.put('admin', 'admin-password');
  const admin = (await issueToken(gw, 'admin', 'admin')).access_token;
  const doc = (await (
    await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${admin}` } })
  ).json()) as Doc;
  return { gw, url, admin, doc };
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (checked by @readme/openapi-parser) with an oauth2 authorization-code scheme at the issuer', async () => {
    const { doc } = await servedGateway();
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    const flow = doc.components.securitySchemes.oauth2.flows.authorizationCode;
    expect(flow.authorizationUrl).toBe('http://127.0.0.1:8080/authorize');
    expect(flow.tokenUrl).toBe('http://127.0.0.1:8080/token');
    expect(Object.keys(flow.scopes).sort()).toEqual(['mcp:admin', 'mcp:docs', 'mcp:hosted']);
    // DPoP is on by default (RFC 9449): the same token may also be presented as `Authorization: DPoP`.
    expect(op(doc, '/docs/mcp', 'post').security).toEqual([
      { oauth2: ['mcp:docs'] },
      { oauth2: ['mcp:docs'], dpop: [] },
    ]);
    expect(op(doc, '/admin/services/{name}', 'put').security).toEqual([
      { oauth2: ['mcp:admin'] },
      { oauth2: ['mcp:admin'], dpop: [] },
    ]);
    expect(op(doc, '/verify', 'get').security).toEqual([{ bearer: [] }, { dpop: [] }]);
    expect(doc.components.securitySchemes).toHaveProperty(
      'dpop',
      expect.objectContaining({ scheme: 'dpop' }),
    );
  });

  it('rfc9449: with dpop.required only DPoP presentations are listed; with DPoP off, none', async () => {
    for (const [dpop, security] of [
      [{ required: true }, [{ oauth2: ['mcp:docs'], dpop: [] }]],
      [{ enabled: false }, [{ oauth2: ['mcp:docs'] }]],
    ] as const) {
      const { url } = await listeningGateway({
        services: { docs: { type: 'fetch', allowHosts: ['127.0.0.1'] } },
        authorization: { dpop },
      });
      const doc = (await (await fetch(`${url}/openapi.json`)).json()) as Doc;
      const result = await validate(structuredClone(doc) as never);
      expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
      expect(op(doc, '/docs/mcp', 'post').security).toEqual(security);
      expect('dpop' in doc.components.securitySchemes).toBe(!('enabled' in dpop));
    }
  });

  it('lists every route the gateway serves, with page content types, and none of them answers 404', async () => {
    const { gw, url, doc } = await servedGateway();
    for (const p of [
      '/',
      '/account',
      '/login',
      '/consent',
      '/callback',
      '/healthz',
      '/readyz',
      '/metrics',
      '/servers',
      '/admin/services',
      '/admin/services/{name}',
      '/admin/policies',
      '/jwks',
      '/register',
      '/register/{id}',
      '/token',
      '/revoke',
      '/introspect',
      '/authorize',
      '/verify',
      '/openapi.json',
      '/docs/mcp',
      '/mcp',
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-protected-resource/docs/mcp',
      '/.well-known/oauth-protected-resource/admin',
      '/.well-known/oauth-protected-resource/mcp',
    ])
      expect(doc.paths, p).toHaveProperty([p]);
    expect(Object.keys(op(doc, '/', 'get').responses[200]!.content!)).toEqual(['text/html']);
    expect(Object.keys(op(doc, '/consent', 'get').responses[200]!.content!)).toEqual(['text/html']);
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      const bases = item.servers?.map((s) => s.url) ?? ['http://127.0.0.1:8080'];
      for (const method of METHODS.filter((m) => m in item)) {
        for (const base of bases) {
          const target = new URL(path.replace('{name}', 'nope').replace('{id}', 'nope'), url);
          // Host-routed services (their own `servers`) through the handler, as no DNS names them here.
          const send = item.servers
            ? (t: URL, init: RequestInit) => gw.fetch(new Request(new URL(t.pathname, base), init))
            : fetch;
          const res = await send(target, {
            method: method.toUpperCase(),
            headers: {
              host: new URL(base).host,
              accept: 'text/html, application/json, text/event-stream',
              'content-type': 'application/json',
              origin: url,
            },
            redirect: 'manual',
            ...(method === 'post' || method === 'put' ? { body: '{}' } : {}),
          });
          await res.body?.cancel();
          expect(res.status, `${method.toUpperCase()} ${base}${path}`).not.toBe(404);
          expect(res.status, `${method.toUpperCase()} ${base}${path}`).not.toBe(405);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('the admin PUT body schema is the JSON Schema of the zod service schema the admin API validates with, and both accept a valid service', async () => {
    const { url, admin, doc } = await servedGateway();
    const schema = doc.components.schemas.ServiceConfig;
    const { $schema: _d, ...expected } = z.toJSONSchema(serviceSchema, {
      io: 'input',
      unrepresentable: 'any',
    });
    expect(schema).toEqual(expected);
    expect(serviceJsonSchema()).toEqual(expected);
    // The schema's own constraints match what the API accepts and refuses.
    const put = (body: unknown) =>
      fetch(`${url}/admin/services/added`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const valid = { type: 'http', url: 'http://127.0.0.1:9/mcp', title: 'Added' };
    const variants = (schema as { oneOf?: { properties: Record<string, unknown>; required: string[] }[] })
      .oneOf!;
    const http = variants.find((v) => (v.properties.type as { const?: string }).const === 'http')!;
    expect(http.required).toContain('url');
    for (const key of Object.keys(valid)) expect(http.properties).toHaveProperty([key]);
    expect((await put(valid)).status).toBe(201);
    expect(http).toMatchObject({ additionalProperties: false });
    expect((await put({ ...valid, misspelt: true })).status).toBe(400);
    expect((await put({ type: 'http' })).status).toBe(400);
  });
});
