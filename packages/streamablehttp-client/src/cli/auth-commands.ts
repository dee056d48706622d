/** The account commands: `login`, `status`, `logout`, `client` (RFC 7592), and `--test-auth`. */
import { EXIT_CODES, UsageError } from '../errors.js';
import { withClient } from './connection.js';
import type { Context } from './context.js';
import { makeSession } from './oauth-flags.js';
import { statusText } from './output.js';
import { parsePairs } from './values.js';

/** `login`, `status`, `logout` and `client info|update|delete`. */
export async function authCommand(
  ctx: Context,
  cmd: 'login' | 'status' | 'logout' | 'client',
  sub: string | undefined,
  rest: string[],
): Promise<number> {
  const f = ctx.flags;
  switch (cmd) {
    case 'login': {
      const tokens = await makeSession(ctx, true).login(f.scope ? { scope: f.scope } : {});
      const status = await makeSession(ctx, false).status();
      ctx.out(statusText(status), { ...status, scope: tokens.scope });
      return EXIT_CODES.ok;
    }
    case 'status': {
      const status = await makeSession(ctx, false).status();
      ctx.out(statusText(status), status);
      return status.loggedIn ? EXIT_CODES.ok : EXIT_CODES.auth;
    }
    case 'logout': {
      const { removed } = await makeSession(ctx, false).logout();
      ctx.out(removed ? `logged out of ${ctx.url.href}` : `no credentials stored for ${ctx.url.href}`, {
        removed,
      });
      return EXIT_CODES.ok;
    }
    case 'client': {
      const session = makeSession(ctx, false);
      if (sub === 'info') {
        const info = await session.clientInfo();
        ctx.out(JSON.stringify(info, null, 2), info);
        return EXIT_CODES.ok;
      }
      if (sub === 'update') {
        if (!rest.length)
          throw new UsageError('client update needs key=value pairs, e.g. client_name="My laptop"');
        const updated = await session.updateClient(parsePairs(rest));
        ctx.out(JSON.stringify(updated, null, 2), updated);
        return EXIT_CODES.ok;
      }
      if (sub === 'delete') {
        await session.deleteClient();
        ctx.out(`deleted the client registration and stored credentials for ${ctx.url.href}`, {
          deleted: true,
        });
        return EXIT_CODES.ok;
      }
      throw new UsageError('client: expected info, update key=value..., or delete');
    }
  }
}

/** `--test-auth`: the stored status, and one connection to prove the credentials work. */
export async function testAuth(ctx: Context): Promise<number> {
  const session = makeSession(ctx, false);
  const status = await session.status();
  await withClient(ctx, async () => undefined);
  ctx.out(
    `authentication works for ${ctx.url.href}${status.loggedIn ? ` (token expires ${status.expiresAt ?? 'unknown'})` : ''}`,
    {
      ok: true,
      status,
    },
  );
  return EXIT_CODES.ok;
}
