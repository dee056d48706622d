import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/index.js';
import { hashSecret } from '../../src/secrets.js';
import { startAs, type TestAs } from './helpers.js';

// server.resources.set: resources added or removed while the server runs are
// followed by metadata, RFC 9728 documents, the grants' audience checks,
// client registration and /verify, without building a new server.

const SECRET = 'notes-bot-secret-0123456789';
let t: TestAs;
let notes: string;

beforeAll(async () => {
  t = await startAs({
    grants: { clientCredentials: true },
    staticClients: [
      {
        client_id: 'notes-bot',
        client_secret_hash: await hashSecret(SECRET),
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['client_credentials'],
        scope: 'mcp:read notes',
      },
    ],
  });
  notes = `${new URL(t.url).origin}/notes/mcp`;
});
afterAll(async () => {
  await t?.close();
});

const initial = () => [
  { resource: t.resource, scopes: ['mcp:read', 'mcp:write'], name: 'Test MCP', default: true },
];

async function clientCredentials(resource: string, scope: string) {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'notes-bot',
      client_secret: SECRET,
      resource,
      scope,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const documentOf = (resource: string) =>
  fetch(`${new URL(resource).origin}/.well-known/oauth-protected-resource${new URL(resource).pathname}`);

const scopesSupported = async () =>
  (
    (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as {
      scopes_supported: string[];
    }
  ).scopes_supported;

const forwardAuth = (resource: string, token: string) => {
  const r = new URL(resource);
  return fetch(`${t.url}/verify`, {
    headers: {
      'x-forwarded-proto': r.protocol.slice(0, -1),
      'x-forwarded-host': r.host,
      'x-forwarded-uri': r.pathname,
      authorization: `Bearer ${token}`,
    },
  });
};

describe('server.resources: live resource changes (rfc8707, rfc9728)', () => {
  it('a resource added at runtime gets tokens, its RFC 9728 document, its scopes in the metadata and /verify', async () => {
    expect([(await clientCredentials(notes, 'notes')).body.error, (await documentOf(notes)).status]).toEqual([
      'invalid_target',
      404,
    ]);
    expect(await scopesSupported()).not.toContain('notes');

    t.as.resources.set([...initial(), { resource: notes, scopes: ['notes'], name: 'Notes' }]);

    expect(t.as.resources.list().map((r) => r.resource)).toEqual([t.resource, notes]);
    const issued = await clientCredentials(notes, 'notes');
    expect([issued.status, issued.body.scope]).toEqual([200, 'notes']);
    const verified = await t.as.verifyAccessToken(issued.body.access_token!, {
      resource: notes,
      scopes: ['notes'],
    });
    expect(verified.scopes).toEqual(['notes']);
    const doc = await documentOf(notes);
    expect([doc.status, await doc.json()]).toEqual([
      200,
      {
        resource: notes,
        authorization_servers: [t.url],
        scopes_supported: ['notes'],
        bearer_methods_supported: ['header'],
        resource_name: 'Notes',
      },
    ]);
    expect(t.as.protectedResourceMetadata(notes)?.resource_name).toBe('Notes');
    expect(await scopesSupported()).toContain('notes');
    expect((await forwardAuth(notes, issued.body.access_token!)).status).toBe(200);
    // Dynamic registration keeps the new scope.
    const reg = await t.as.clients.register({
      redirect_uris: ['http://127.0.0.1:7777/cb'],
      token_endpoint_auth_method: 'none',
      scope: 'notes mcp:read',
    });
    expect(reg.client.metadata.scope).toBe('notes mcp:read');
  });

  it('a removed resource is refused: no token, no document, not in the metadata, 403 at /verify', async () => {
    t.as.resources.set([...initial(), { resource: notes, scopes: ['notes'] }]);
    const before = await clientCredentials(notes, 'notes');
    expect(before.status).toBe(200);

    t.as.resources.set(initial());

    expect(await clientCredentials(notes, 'notes')).toMatchObject({
      status: 400,
      body: { error: 'invalid_target' },
    });
    expect((await documentOf(notes)).status).toBe(404);
    expect(t.as.protectedResourceMetadata(notes)).toBeUndefined();
    expect(await scopesSupported()).not.toContain('notes');
    expect((await forwardAuth(notes, before.body.access_token!)).status).toBe(403);
    // The resources that stay are served as before.
    expect((await documentOf(t.resource)).status).toBe(200);
    expect((await clientCredentials(t.resource, 'mcp:read')).status).toBe(200);
  });

  it('an invalid list is refused with OptionsError and changes nothing', () => {
    t.as.resources.set(initial());
    expect(() => t.as.resources.set([{ resource: 'not a url' }])).toThrow(OptionsError);
    expect(() => t.as.resources.set([{ resource: notes, scopes: ['bad scope'] }])).toThrow(/scope/);
    expect(t.as.resources.list().map((r) => r.resource)).toEqual([t.resource]);
  });
});
