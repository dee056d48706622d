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

/**
 * Store key of the local users as one record (name → user), as versions
 * before one key per user kept them. It is imported into {@link userKey}
 * records once, then removed.
 */
export const USERS_KEY = 'gateway:users';

/** Store set of the lowercase names of the local users. */
export const USER_INDEX_KEY = 'gateway:user-index';

/** Store key of one local user's record, by lowercase user name. */
export const userKey = (username: string): string => `gateway:user:${username.toLowerCase()}`;

/** Attempts of {@link LocalUsers.put} when other writers keep changing the same user. */
const PUT_ATTEMPTS = 10;

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
 * Local users kept in the store, one record per user under
 * {@link userKey} and their names in the set {@link USER_INDEX_KEY}. Each
 * change writes only its own user's record with the store's
 * `compareAndSet`, so processes sharing the store (the gateway upgrading a
 * hash at sign-in, any number of `mcp-gateway users …` commands) never drop
 * each other's users. Passwords are hashed by oauth-dynamicclient's
 * `hashPassword` (the one implementation for the gateway, its CLI and the
 * authorization server).
 */
export class LocalUsers {
  /** The cost passwords are hashed with and upgraded to at sign-in. */
  readonly passwordCost: PasswordCost;
  private imported: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    options: LocalUsersOptions = {},
  ) {
    this.passwordCost = options.passwordCost ?? DEFAULT_PASSWORD_COST;
  }

  /**
   * Imports a {@link USERS_KEY} record once per process (retried after a
   * failure): each user not already stored under its own key is added, then
   * the old record is deleted. Safe to run in several processes at once.
   */
  private ready(): Promise<void> {
    this.imported ??= this.importOld().catch((err: unknown) => {
      this.imported = undefined;
      throw err;
    });
    return this.imported;
  }

  private async importOld(): Promise<void> {
    const old = await this.store.get<Record<string, LocalUser>>(USERS_KEY);
    if (!old) return;
    for (const user of Object.values(old)) await this.create(user);
    await this.store.delete(USERS_KEY);
  }

  /**
   * Stores `user` unless a user of that name exists; `true` when stored. The
   * name joins the index before and after the record is written: a crash
   * leaves at most a name without a record (skipped), and a concurrent
   * {@link remove} cannot leave a record without its name.
   */
  private async create(user: LocalUser): Promise<boolean> {
    const name = user.username.toLowerCase();
    await this.store.addToSet(USER_INDEX_KEY, name);
    if (!(await this.store.compareAndSet(userKey(name), undefined, user))) return false;
    await this.store.addToSet(USER_INDEX_KEY, name);
    return true;
  }

  /** Every stored user by lowercase name. */
  async all(): Promise<Record<string, LocalUser>> {
    await this.ready();
    const names = (await this.store.members(USER_INDEX_KEY)).sort();
    const users = await Promise.all(names.map((n) => this.store.get<LocalUser>(userKey(n))));
    const out: Record<string, LocalUser> = {};
    names.forEach((n, i) => {
      if (users[i]) out[n] = users[i];
    });
    return out;
  }

  /** Every stored user, by name. */
  async list(): Promise<LocalUser[]> {
    return Object.values(await this.all());
  }

  async get(username: string): Promise<LocalUser | undefined> {
    await this.ready();
    return this.store.get<LocalUser>(userKey(username));
  }

  /**
   * Adds a user unless one of that name (any case) exists; the password is
   * hashed with scrypt. Of concurrent adds of one name, one succeeds.
   *
   * @returns whether the user was added.
   */
  async add(username: string, password: string, name?: string): Promise<boolean> {
    await this.ready();
    const passwordHash = await hashPassword(password, this.passwordCost);
    return this.create({ username, passwordHash, ...(name ? { name } : {}) });
  }

  /** Adds or replaces a user; the password is hashed with scrypt (oauth-dynamicclient's `hashPassword`). */
  async put(username: string, password: string, name?: string): Promise<void> {
    await this.ready();
    const passwordHash = await hashPassword(password, this.passwordCost);
    const user: LocalUser = { username, passwordHash, ...(name ? { name } : {}) };
    for (let i = 0; i < PUT_ATTEMPTS; i++) {
      const current = await this.store.get<LocalUser>(userKey(username));
      if (current === undefined ? await this.create(user) : await this.swap(current, user)) return;
    }
    throw new Error(`user ${username} kept changing; try again`);
  }

  /** Replaces the record `current` by `next` unless it changed meanwhile. */
  private swap(current: LocalUser, next: LocalUser): Promise<boolean> {
    return this.store.compareAndSet(userKey(current.username), current, next);
  }

  /**
   * Replaces a stored user's password hash by a stronger one made at sign-in,
   * only if the stored record still has `previousHash` (a `users passwd` or
   * `users remove` in between wins). Returns whether it was stored; users
   * from the config file are not in the store and are left alone.
   */
  async upgradeHash(username: string, previousHash: string, passwordHash: string): Promise<boolean> {
    const user = await this.get(username);
    if (!user || user.passwordHash !== previousHash) return false;
    return this.swap(user, { ...user, passwordHash });
  }

  /**
   * Removes a user. The name leaves the index after the record; should an
   * add of the same name have written a record meanwhile, it is put back.
   */
  async remove(username: string): Promise<boolean> {
    await this.ready();
    const name = username.toLowerCase();
    if (!(await this.store.delete(userKey(name)))) return false;
    await this.store.removeFromSet(USER_INDEX_KEY, name);
    if ((await this.store.get(userKey(name))) !== undefined) await this.store.addToSet(USER_INDEX_KEY, name);
    return true;
  }

  /**
   * First start: when nobody can sign in, creates `admin` with a random
   * password and returns it (to be printed once; only its hash is kept).
   * Of several processes starting at once, one creates it.
   */
  async bootstrapAdmin(configUsers: LocalUser[]): Promise<string | undefined> {
    if (configUsers.length > 0 || (await this.list()).length > 0) return undefined;
    const password = randomBytes(18).toString('base64url');
    return (await this.add('admin', password, 'Administrator')) ? password : undefined;
  }
}

/** A fresh random password for `users add` without `--password`. */
export const randomPassword = () => randomBytes(18).toString('base64url');

/**
 * The local identity provider over users from the config and from the store.
 * A stored user is looked up by name at each sign-in (one store read, however
 * many users there are), so `mcp-gateway users add|passwd|remove` takes effect
 * without a restart and on every instance sharing the store. Config users win
 * over stored users of the same name. A stored user's hash made with an older
 * scrypt cost is replaced in the store at their next successful sign-in.
 */
export function liveLocalIdentityProvider(configUsers: LocalUser[], users: LocalUsers): IdentityProvider {
  return localIdentityProvider({
    users: configUsers,
    findUser: (username) => users.get(username),
    passwordCost: users.passwordCost,
    onPasswordUpgrade: async (username, passwordHash, previousHash) => {
      await users.upgradeHash(username, previousHash, passwordHash);
    },
  });
}
