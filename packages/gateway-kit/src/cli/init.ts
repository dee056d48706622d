import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { createGateway } from '../gateway/create.js';
import { createStderrLogger } from '../ops/logger.js';
import { CliError } from './errors.js';
import type { CliFlags, CliIo } from './command.js';

/** The commented config `mcp-gateway init` writes. */
export const INIT_CONFIG = `# mcp-gateway configuration. Reference: https://github.com/mcp-gateway/mcp-gateway/tree/main/packages/gateway-kit#configuration
# Every field can be overridden from the environment: MCP_GATEWAY__<PATH> (e.g. MCP_GATEWAY__LISTEN__PORT=9000).
# yaml-language-server: $schema=https://unpkg.com/@mcp-gateway/gateway-kit/schema/config.schema.json

# Public URL of the gateway; also the OAuth issuer. Use https in production.
issuer: http://127.0.0.1:8080
listen:
  host: 127.0.0.1
  port: 8080
# Set true behind a reverse proxy that sets X-Forwarded-Proto/Host/For.
trustProxy: false

# Where users sign in: local (users in the store: mcp-gateway users add), github or oidc.
idp:
  type: local
# idp:
#   type: github
#   clientId: Iv1.xxxxxxxx
#   clientSecret: xxxxxxxx          # better: MCP_GATEWAY__IDP__CLIENT_SECRET
#   allowedUsers: ['github:583231'] # numeric GitHub user ids (logins can be renamed); '*' for everyone
#   allowedOrgs: []

# Users who may use the admin API (/admin/..., scope mcp:admin), by user id, never by login:
# local:<username>, github:<numeric id>, oidc:<issuer>#<sub>. A signed-in user sees their id on /account.
# Without this key: local:admin with the local identity provider, nobody with GitHub or OIDC.
admins: ['local:admin']
# Adding stdio services through the admin API runs commands on this host: off unless you say so.
# http services added through it reach public addresses only unless allowPrivateHttpServices.
admin:
  allowStdioServices: false
  allowPrivateHttpServices: false

# embedded (default: a database file under dataDir), memory, or redis (several instances).
store:
  type: embedded
# store:
#   type: redis
#   url: redis://127.0.0.1:6379
dataDir: .mcp-gateway

tokens:
  accessTokenTtl: 3600        # seconds
  refreshTokenTtl: 2592000    # 30 days
  codeTtl: 60

# Browser origins allowed to call the MCP endpoints and OAuth endpoints (e.g. the MCP Inspector).
cors:
  origins: []

# Each service is served at <issuer>/<name>/mcp and needs the scope mcp:<name>.
services:
  fetch:
    type: fetch               # built-in, SSRF-safe web fetch
    allowHosts: []            # hosts/CIDRs exempt from the private-address refusal
  memory:
    type: stdio               # one child process per session
    command: npx
    args: ['-y', '@modelcontextprotocol/server-memory']
    # users: ['local:admin']  # only these user ids (default: every signed-in user)
  # remote:
  #   type: http              # reverse proxy; the client's token is never forwarded
  #   url: https://mcp.internal.example.com/mcp
  #   credentials: { type: bearer, token: xxxxxxxx }

# Audit events (logins, registrations, tool calls, revocations), signed with HMAC-SHA256.
webhooks: []
# webhooks:
#   - url: https://hooks.example.com/mcp
#     secret: a-long-random-secret
#     events: [login, registration, tool_call, revocation]

logging:
  level: info
`;

/** `mcp-gateway init`: writes the config, creates the store with signing keys and the admin user. */
export async function init(flags: CliFlags, io: CliIo): Promise<number> {
  const file = path.resolve(flags.config ?? 'mcp-gateway.yaml');
  if (existsSync(file) && !flags.force) {
    throw new CliError(`${file} exists; pass --force to overwrite it`);
  }
  writeFileSync(file, INIT_CONFIG);
  io.out(`wrote ${file}`);
  const { config } = loadConfig({ file });
  const gateway = await createGateway(config, {
    storeAccess: 'command',
    cwd: path.dirname(file),
    processMetrics: false,
    logger: createStderrLogger('warn'),
  });
  try {
    const jwks = await gateway.authorization.server.keys.jwks();
    io.out(
      `signing keys ready in the ${config.store.type} store (${jwks.keys.map((k) => k.kid).join(', ')})`,
    );
    if (gateway.initialAdminPassword) {
      io.out(`local user "admin" (id local:admin) created with password: ${gateway.initialAdminPassword}`);
      io.out('it is shown only this once; change it with: mcp-gateway users passwd admin');
    }
    io.out(`start the gateway: mcp-gateway --config ${path.relative(process.cwd(), file) || file}`);
  } finally {
    await gateway.close(0);
  }
  return 0;
}
