import { randomBytes } from 'node:crypto';
import {
  DEFAULT_PASSWORD_COST,
  hashPassword,
  localIdentityProvider,
  type IdentityProvider,
  type LocalUser,
  type PasswordCost,
  type Store,
} from '@mcp-gateway/oauth-dynamicclient';

/** Store key of the local users managed by `mcp-gateway users …` (and the first-start admin). */
export const USERS_KEY = 'gateway:users';

/** Options of {@link LocalUsers}. */
export interface LocalUsersOptions {
  /**
   * scrypt cost of new and upgraded password hashes (default
   * oauth-dynamicclient's `DEFAULT_PASSWORD_COST`, N=2^17, r=8, p=1).
   * Lower it only in tests.
   */
  passwordCost?: PasswordCost;
}

/**
 * Local users kept in the store, by lowercase user name. Passwords are hashed
 * by oauth-dynamicclient's `hashPassword` (the one implementation for the
 * gateway, its CLI and the authorization server).
 */
export class LocalUsers {
  /** The cost passwords are hashed with and upgraded to at sign-in. */
  readonly passwordCost: PasswordCost;

  constructor(
    private readonly store: Store,
    options: LocalUsersOptions = {},
  ) {
    this.passwordCost = options.passwordCost ?? DEFAULT_PASSWORD_COST;
  }

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
    const passwordHash = await hashPassword(password, this.passwordCost);
    const users = await this.all();
    users[username.toLowerCase()] = {
      username,
      passwordHash,
      ...(name ? { name } : {}),
    };
    await this.store.set(USERS_KEY, users);
  }

  /**
   * Replaces a stored user's password hash by a stronger one made at sign-in,
   * only if the stored hash is still `previousHash` (a `users passwd` in
   * between wins). Returns whether it was stored; users from the config file
   * are not in the store and are left alone.
   */
  async upgradeHash(username: string, previousHash: string, passwordHash: string): Promise<boolean> {
    const users = await this.all();
    const user = users[username.toLowerCase()];
    if (!user || user.passwordHash !== previousHash) return false;
    users[username.toLowerCase()] = { ...user, passwordHash };
    await this.store.set(USERS_KEY, users);
    return true;
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
 * effect without a restart (and on every instance sharing the store). A
 * stored user's hash made with an older scrypt cost is replaced in the store
 * at their next successful sign-in.
 */
export function liveLocalIdentityProvider(configUsers: LocalUser[], users: LocalUsers): IdentityProvider {
  const provider = (list: LocalUser[]) =>
    localIdentityProvider({
      users: list,
      passwordCost: users.passwordCost,
      onPasswordUpgrade: async (username, passwordHash, previousHash) => {
        await users.upgradeHash(username, previousHash, passwordHash);
      },
    });
  let snapshot = '';
  let inner: IdentityProvider = provider(configUsers);
  let ctx: Parameters<NonNullable<IdentityProvider['attach']>>[0] | undefined;
  const sync = async () => {
    const stored = await users.list();
    const key = JSON.stringify(stored);
    if (key === snapshot) return;
    snapshot = key;
    const byName = new Map<string, LocalUser>();
    for (const u of [...stored, ...configUsers]) byName.set(u.username.toLowerCase(), u);
    inner = provider([...byName.values()]);
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
