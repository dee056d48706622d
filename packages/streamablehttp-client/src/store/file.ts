import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readEnv, type EnvVar } from '../env.js';
import { ClientError } from '../errors.js';
import { acquireLockFile, type LockFileOptions } from './lock-file.js';
import {
  STORE_FORMAT_VERSION,
  StoredCredentialsSchema,
  type StoredCredentials,
  type TokenStore,
} from './types.js';

/** The older name of the variable that overrides the storage folder; `MCP_CLIENT_HOME` wins over it. */
export const HOME_ENV = 'MCP_STREAMABLEHTTP_CLIENT_HOME';

/** `MCP_CLIENT_HOME`, with {@link HOME_ENV} as its documented alias. */
const STORE_HOME: EnvVar = { name: 'HOME', fallback: HOME_ENV };

/**
 * The folder credentials live in: `$MCP_CLIENT_HOME` (or its alias
 * `$MCP_STREAMABLEHTTP_CLIENT_HOME`), else
 * `$XDG_CONFIG_HOME/mcp-streamablehttp-client`, else
 * `~/.config/mcp-streamablehttp-client` (`%APPDATA%\mcp-streamablehttp-client`
 * on Windows). The path carries no version, so upgrades keep logins.
 */
export function defaultStoreHome(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const home = readEnv(env, STORE_HOME);
  if (home) return path.resolve(home);
  if (platform === 'win32' && env.APPDATA) return path.join(env.APPDATA, 'mcp-streamablehttp-client');
  const base =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.join(os.homedir(), '.config');
  return path.join(base, 'mcp-streamablehttp-client');
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/**
 * The default {@link TokenStore}: one JSON file per (server, issuer) in
 * `<home>/credentials/`, mode 0600 in 0700 folders, written atomically
 * (temp file + rename). Every file carries `"version": 1`. Locks are
 * `O_EXCL` files in `<home>/locks/` so processes refresh one at a time.
 */
export class FileTokenStore implements TokenStore {
  /** The storage folder. */
  readonly home: string;
  private readonly lockOptions: LockFileOptions;

  constructor(opts: { home?: string; lock?: LockFileOptions } = {}) {
    this.home = opts.home ?? defaultStoreHome();
    this.lockOptions = opts.lock ?? {};
  }

  private get credentialsDir() {
    return path.join(this.home, 'credentials');
  }

  /** The file holding (server, issuer). */
  fileFor(server: string, issuer: string): string {
    return path.join(this.credentialsDir, `${hash(`${server}\n${issuer}`)}.json`);
  }

  private async ensureDir(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const d of [this.home, dir]) await fs.chmod(d, 0o700);
  }

  private async readFile(file: string): Promise<StoredCredentials | undefined> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const version = (json as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && version > STORE_FORMAT_VERSION) {
      throw new ClientError(
        'usage',
        'store_version',
        `${file} was written by a newer mcp-streamablehttp-client (format ${version}); upgrade this one`,
      );
    }
    const parsed = StoredCredentialsSchema.safeParse(json);
    return parsed.success ? parsed.data : undefined;
  }

  async get(server: string, issuer: string): Promise<StoredCredentials | undefined> {
    const r = await this.readFile(this.fileFor(server, issuer));
    return r && r.server === server && r.issuer === issuer ? r : undefined;
  }

  async list(server: string): Promise<StoredCredentials[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.credentialsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: StoredCredentials[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const r = await this.readFile(path.join(this.credentialsDir, name));
      if (r?.server === server) out.push(r);
    }
    return out.sort((a, b) => b.updated_at - a.updated_at);
  }

  async set(record: StoredCredentials): Promise<void> {
    const data = StoredCredentialsSchema.parse(record);
    await this.ensureDir(this.credentialsDir);
    const file = this.fileFor(record.server, record.issuer);
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(data, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  }

  async delete(server: string, issuer?: string): Promise<void> {
    const records = issuer === undefined ? await this.list(server) : [{ server, issuer }];
    for (const r of records) await fs.rm(this.fileFor(r.server, r.issuer), { force: true });
  }

  async withLock<T>(server: string, fn: () => Promise<T>): Promise<T> {
    const dir = path.join(this.home, 'locks');
    await this.ensureDir(dir);
    const release = await acquireLockFile(path.join(dir, `${hash(server)}.lock`), this.lockOptions);
    try {
      return await fn();
    } finally {
      await release();
    }
  }
}
