import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { json, nativeClient, testServer } from '../helpers/server.js';

const headerValue = fc.string({
  unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~'.split('')),
  maxLength: 60,
});
const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json; charset=utf-8'),
  fc.constant('APPLICATION/JSON'),
  fc.constant('application/x-www-form-urlencoded'),
  fc.constant('text/plain'),
  fc.constant('multipart/form-data; boundary=x'),
  headerValue,
);
const authorization = fc.oneof(
  fc.constant('Bearer '),
  headerValue.map((v) => `Bearer ${v}`),
  headerValue.map((v) => `Basic ${v}`),
  headerValue,
);
const headers = fc.record(
  {
    'content-type': contentType,
    authorization,
    origin: fc.oneof(fc.constant('https://app.example'), headerValue),
    'content-length': fc.oneof(fc.nat().map(String), headerValue),
    'x-forwarded-for': headerValue,
  },
  { requiredKeys: [] },
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
/** Metadata-shaped objects: right keys, arbitrary values, so validation paths are exercised. */
const metadataLike = fc.record(
  {
    redirect_uris: fc.oneof(
      fc.array(fc.oneof(fc.webUrl(), fc.string(), jsonValue), { maxLength: 4 }),
      jsonValue,
    ),
    token_endpoint_auth_method: fc.oneof(
      fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'),
      jsonValue,
    ),
    grant_types: fc.oneof(
      fc.array(fc.constantFrom('authorization_code', 'refresh_token', 'implicit', ''), { maxLength: 3 }),
      jsonValue,
    ),
    response_types: fc.oneof(fc.constant(['code']), jsonValue),
    application_type: fc.oneof(fc.constantFrom('web', 'native'), jsonValue),
    client_name: fc.oneof(fc.string(), jsonValue),
    client_id: fc.oneof(fc.string(), jsonValue),
    client_secret: fc.oneof(fc.string(), jsonValue),
    scope: fc.oneof(fc.string(), jsonValue),
    logo_uri: fc.oneof(fc.webUrl(), fc.string(), jsonValue),
    contacts: jsonValue,
    __proto__: jsonValue,
    constructor: jsonValue,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  metadataLike.map((m) => JSON.stringify(m)),
  jsonValue.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(''),
);

function assertNo500(res: Response, what: unknown) {
  if (res.status >= 500) throw new Error(`status ${res.status} for ${JSON.stringify(what)}`);
}

describe('no input produces a 500', () => {
  it('property: POST /register with arbitrary bodies and headers answers < 500 with an OAuth error body', async () => {
    const { call } = testServer({ rateLimits: { register: false } });
    await fc.assert(
      fc.asyncProperty(body, headers, async (b, h) => {
        let res: Response;
        try {
          res = await call('/register', { method: 'POST', headers: h, body: b });
        } catch (err) {
          // The Request constructor itself refused the input (e.g. a bad header); not a server concern.
          if (err instanceof TypeError) return;
          throw err;
        }
        assertNo500(res, { b, h });
        if (res.status !== 201) {
          const out = (await res.json()) as { error?: unknown };
          expect(typeof out.error).toBe('string');
        } else await res.body?.cancel();
      }),
      { numRuns: 300 },
    );
  });

  it('property: RFC 7592 GET/PUT/DELETE with arbitrary ids, tokens and bodies answers < 500', async () => {
    const { call } = testServer({ rateLimits: { registrationManagement: false } });
    const reg = (await (await call('/register', json(nativeClient))).json()) as {
      client_id: string;
      registration_access_token: string;
    };
    const id = fc.oneof(
      fc.constant(reg.client_id),
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
      fc.constant('%'),
      fc.constant('%E0%A4%A'),
    );
    const token = fc.oneof(fc.constant(`Bearer ${reg.registration_access_token}`), authorization);
    const putBody = fc.oneof(
      body,
      metadataLike.map((m) => JSON.stringify({ ...m, client_id: reg.client_id })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'DELETE'),
        id,
        token,
        putBody,
        headers,
        async (method, i, t, b, h) => {
          let res: Response;
          try {
            res = await call(`/register/${i}`, {
              method,
              headers: { ...h, authorization: t, 'content-type': h['content-type'] ?? 'application/json' },
              ...(method === 'PUT' ? { body: b } : {}),
            });
          } catch (err) {
            if (err instanceof TypeError) return;
            throw err;
          }
          assertNo500(res, { method, i, b, h });
          await res.body?.cancel();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: any method on any path (metadata, PRM, unknown) answers < 500', async () => {
    const { call } = testServer({ issuer: 'https://as.example.com/auth' });
    const path = fc.oneof(
      fc.constantFrom(
        '/.well-known/oauth-authorization-server/auth',
        '/.well-known/openid-configuration/auth',
        '/auth/.well-known/openid-configuration',
        '/.well-known/oauth-protected-resource/mcp',
        '/auth/register',
        '/auth/register/x',
      ),
      fc.webPath(),
      fc.string({ maxLength: 50 }).map((s) => `/${encodeURIComponent(s)}`),
    );
    const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');
    await fc.assert(
      fc.asyncProperty(method, path, headers, body, async (m, p, h, b) => {
        let res: Response;
        try {
          res = await call(p, { method: m, headers: h, ...(m === 'GET' || m === 'HEAD' ? {} : { body: b }) });
        } catch (err) {
          if (err instanceof TypeError) return;
          throw err;
        }
        assertNo500(res, { m, p, h });
        await res.body?.cancel();
      }),
      { numRuns: 300 },
    );
  });
});
