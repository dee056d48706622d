import { loadConfig } from '../config/index.js';
import { createGateway, type Gateway } from '../gateway/create.js';
import { randomPassword } from '../gateway/users.js';
import { createStderrLogger } from '../ops/logger.js';
import { CliError } from './errors.js';
import type { CliFlags, CliIo } from './command.js';

async function open(flags: CliFlags): Promise<Gateway> {
  const { config } = loadConfig({ file: flags.config });
  return createGateway(config, {
    storeAccess: 'command',
    bootstrapAdmin: false,
    processMetrics: false,
    logger: createStderrLogger('warn'),
  });
}

/** `users`, `clients`, `keys` and `token` commands, run against the configured store. */
export async function command(
  cmd: string,
  sub: string | undefined,
  arg: string | undefined,
  flags: CliFlags,
  io: CliIo,
): Promise<number> {
  const gateway = await open(flags);
  try {
    switch (cmd) {
      case 'users':
        return await users(gateway, sub, arg, flags, io);
      case 'clients':
        return await clients(gateway, sub, arg, flags, io);
      case 'keys':
        if (sub !== 'rotate') throw new CliError('usage: mcp-gateway keys rotate', 2);
        io.out(`now signing with key ${await gateway.authorization.server.keys.rotate()}`);
        return 0;
      case 'token': {
        const { issueToken } = await import('../gateway/cli-token.js');
        if (!flags.user || !flags.service)
          throw new CliError('usage: mcp-gateway token --user NAME --service SERVICE', 2);
        const token = await issueToken(gateway, flags.user, flags.service, flags.scope);
        io.out(flags.json ? JSON.stringify(token) : token.access_token);
        return 0;
      }
      default:
        throw new CliError(`unknown command ${cmd}`, 2);
    }
  } finally {
    await gateway.close(0);
  }
}

async function users(
  gateway: Gateway,
  sub: string | undefined,
  name: string | undefined,
  flags: CliFlags,
  io: CliIo,
) {
  if (gateway.config.idp.type !== 'local') {
    throw new CliError(
      `users are managed by the ${gateway.config.idp.type} identity provider, not the gateway`,
    );
  }
  if (sub === 'list') {
    // The id first: it is what `admins` and a service's `users` name.
    const configured = gateway.config.idp.users.map(
      (u) => `local:${u.username}  ${u.username} (config file)`,
    );
    const stored = (await gateway.users.list()).map(
      (u) => `local:${u.username}  ${u.username}${u.name ? ` (${u.name})` : ''}`,
    );
    for (const line of [...stored, ...configured]) io.out(line);
    return 0;
  }
  if (!name || !/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
    throw new CliError('usage: mcp-gateway users add|passwd|remove NAME (letters, digits, . _ @ -)', 2);
  }
  if (sub === 'add' || sub === 'passwd') {
    const taken = () => new CliError(`user ${name} exists; use: mcp-gateway users passwd ${name}`);
    const exists = (await gateway.users.get(name)) !== undefined;
    if (sub === 'add' && exists) throw taken();
    if (sub === 'passwd' && !exists) throw new CliError(`no user ${name}`);
    const password = flags.password ?? randomPassword();
    if (password.length < 8) throw new CliError('passwords have at least 8 characters');
    if (sub === 'add') {
      // Checked again as the record is written: of two adds of one name at once, one wins.
      if (!(await gateway.users.add(name, password, flags.name))) throw taken();
    } else {
      const current = await gateway.users.get(name);
      await gateway.users.put(name, password, flags.name ?? current?.name);
    }
    io.out(sub === 'add' ? `user ${name} added (id local:${name})` : `password of ${name} changed`);
    if (!flags.password) io.out(`password: ${password}`);
    return 0;
  }
  if (sub === 'remove') {
    if (!(await gateway.users.remove(name))) throw new CliError(`no user ${name}`);
    io.out(`user ${name} removed (their tokens stay valid until they expire; revoke apps at /account)`);
    return 0;
  }
  throw new CliError('usage: mcp-gateway users list|add|passwd|remove NAME', 2);
}

async function clients(
  gateway: Gateway,
  sub: string | undefined,
  id: string | undefined,
  flags: CliFlags,
  io: CliIo,
) {
  const as = gateway.authorization.server;
  if (sub === 'list') {
    const ids = await as.clients.list();
    for (const clientId of ids) {
      const c = await as.clients.get(clientId);
      const m = c?.metadata;
      io.out(
        flags.json
          ? JSON.stringify({ client_id: clientId, kind: c?.kind, ...m })
          : `${clientId}  ${c?.kind ?? ''}  ${m?.client_name ?? ''}  ${(m?.redirect_uris ?? []).join(' ')}`,
      );
    }
    return 0;
  }
  if (!id) throw new CliError('usage: mcp-gateway clients show|delete CLIENT_ID', 2);
  if (sub === 'show') {
    const c = await as.clients.get(id);
    if (!c) throw new CliError(`no client ${id}`);
    // Hashes of the client secret and registration token stay in the store.
    const { secretHash: _s, registrationTokenHash: _r, ...visible } = c as unknown as Record<string, unknown>;
    io.out(JSON.stringify(visible, null, 2));
    return 0;
  }
  if (sub === 'delete') {
    if (!(await as.clients.delete(id))) throw new CliError(`no client ${id}`);
    io.out(`client ${id} deleted with every grant and token it held`);
    return 0;
  }
  throw new CliError('usage: mcp-gateway clients list|show|delete [CLIENT_ID]', 2);
}
