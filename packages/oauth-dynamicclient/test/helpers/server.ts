import { ManualClock } from '../../src/clock.js';
import { createAuthorizationServer, type AuthorizationServer } from '../../src/server.js';
import type { AuthorizationServerOptions } from '../../src/options.js';
import { silentLogger } from '../../src/http/errors.js';
import type { AuditRecord } from '../../src/audit/events.js';

/** A server with a manual clock, a silent logger and recorded audit events. */
export function testServer(overrides: Partial<AuthorizationServerOptions> = {}): {
  server: AuthorizationServer;
  clock: ManualClock;
  audit: AuditRecord[];
  /** `fetch` against a path below the issuer origin. */
  call(path: string, init?: RequestInit, remoteAddress?: string): Promise<Response>;
} {
  const clock = (overrides.clock as ManualClock | undefined) ?? new ManualClock(1_800_000_000_000);
  const audit: AuditRecord[] = [];
  const server = createAuthorizationServer({
    issuer: 'https://as.example.com',
    resources: [
      { resource: 'https://rs.example.com/mcp', scopes: ['mcp:read', 'mcp:write'], name: 'Demo MCP' },
    ],
    logger: silentLogger,
    onAudit: (r) => void audit.push(r),
    ...overrides,
    clock,
  });
  const origin = new URL(server.issuer).origin;
  return {
    server,
    clock,
    audit,
    call: (path, init, remoteAddress = '203.0.113.7') =>
      server.fetch(new Request(new URL(path, origin), init), { remoteAddress }),
  };
}

export const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export const nativeClient = {
  client_name: 'Test Client',
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
};
