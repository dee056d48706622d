import { randomBytes } from 'node:crypto';
import {
  hashPassword,
  localIdentityProvider,
  type IdentityProvider,
  type LocalUser,
  type Store,
} from '@mcp-gateway/oauth-dynamicclient';

/** Store key of the local users managed by `mcp-gateway users …` (and the first-start admin). */
export const USERS_KEY = 'gateway:users';

/** Local users kept in the store, by lowercase user name. */
export class LocalUsers {
  constructor(private readonly store: Store) {}

  async all(): Promise<Record<string, LocalUser>> {
    return (await this.store.get<Record<string, LocalUser>>(USERS_KEY)) ?? {};
  }

  async list(): Promise<LocalUser[]> {
    return Object.values(await this.all());
  }

  async get(username: string): Promise<LocalUser | undefined> {
    return (await this.all())[username.toLowerCase()];
  }

  /** Adds or replaces a user; the password is hashed with scrypt (oauth-dynamicclient's `hashPassword`). */
  async put(username: string, password: string, name?: string): Promise<void> {
    const users = await this.all();
    users[username.toLowerCase()] = {
      username,
      passwordHash: await hashPassword(password),
      ...(name ? { name } : {}),
    };
    await this.store.set(USERS_KEY, users);
  }

  async remove(username: string): Promise<boolean> {
    const users = await this.all();
    if (!users[username.toLowerCase()]) return false;
    delete users[username.toLowerCase()];
    await this.store.set(USERS_KEY, users);
    return true;
  }

  /**
   * First start: when nobody can sign in, creates `admin` with a random
   * password and returns it (to be printed once; only its hash is kept).
   */
  async bootstrapAdmin(configUsers: LocalUser[]): Promise<string | undefined> {
    if (configUsers.length > 0 || (await this.list()).length > 0) return undefined;
    const password = randomBytes(18).toString('base64url');
    await this.put('admin', password, 'Administrator');
    return password;
  }
}

/** A fresh random password for `users add` without `--password`. */
export const randomPassword = () => randomBytes(18).toString('base64url');

/**
 * The local identity provider over users from the config and from the store,
 * re-read on every sign-in so `mcp-gateway users add|passwd|remove` takes
 * effect without a restart (and on every instance sharing the store).
 */
export function liveLocalIdentityProvider(configUsers: LocalUser[], users: LocalUsers): IdentityProvider {
  let snapshot = '';
  let inner: IdentityProvider = localIdentityProvider({ users: configUsers });
  let ctx: Parameters<NonNullable<IdentityProvider['attach']>>[0] | undefined;
  const sync = async () => {
    const stored = await users.list();
    const key = JSON.stringify(stored);
    if (key === snapshot) return;
    snapshot = key;
    const byName = new Map<string, LocalUser>();
    for (const u of [...stored, ...configUsers]) byName.set(u.username.toLowerCase(), u);
    inner = localIdentityProvider({ users: [...byName.values()] });
    if (ctx) inner.attach?.(ctx);
  };
  return {
    id: 'local',
    attach(c) {
      ctx = c;
      inner.attach?.(c);
    },
    routes() {
      return (inner.routes?.() ?? []).map((r) => ({
        ...r,
        handler: async (...args: Parameters<typeof r.handler>) => {
          await sync();
          const current = inner
            .routes?.()
            .find((x) => x.path === r.path && JSON.stringify(x.method) === JSON.stringify(r.method));
          return (current ?? r).handler(...args);
        },
      }));
    },
    async begin(input) {
      await sync();
      return inner.begin(input);
    },
    async complete(input) {
      await sync();
      return inner.complete(input);
    },
  };
}
