// `offline_access` is no scope of a protected resource (MCP 2026-07-28, SEP-2207): a service whose
// `scopes` list it keeps it out of its RFC 9728 document and of a federated endpoint's, while the
// authorization server's metadata still offers it. A real gateway, its documents over HTTP.
import { beforeAll, describe, expect, it } from 'vitest';
import { demoPath, listeningGateway } from './helpers/listening.js';

let base: string;

beforeAll(async () => {
  ({ url: base } = await listeningGateway({
    services: {
      notes: {
        type: 'stdio',
        command: process.execPath,
        args: [demoPath()],
        scopes: ['mcp:notes', 'offline_access'],
      },
    },
    federated: [{ path: '/all', services: ['notes'] }],
  }));
});

const json = async (path: string) => {
  const res = await fetch(`${base}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { scopes_supported?: string[] };
};

describe('protected-resource metadata without offline_access', () => {
  it("a service's document and a federated endpoint's list its other scopes only; the authorization server's metadata still offers offline_access", async () => {
    expect((await json('/.well-known/oauth-protected-resource/notes/mcp')).scopes_supported).toEqual([
      'mcp:notes',
    ]);
    expect((await json('/.well-known/oauth-protected-resource/all')).scopes_supported).toEqual(['mcp:notes']);
    expect((await json('/.well-known/oauth-authorization-server')).scopes_supported).toContain(
      'offline_access',
    );
  });
});
