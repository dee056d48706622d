import type { StoredCredentials, TokenStore } from './types.js';

/** An in-memory {@link TokenStore}: for tests, and for hosts that keep tokens elsewhere. */
export class MemoryTokenStore implements TokenStore {
  private readonly records = new Map<string, StoredCredentials>();
  private readonly locks = new Map<string, Promise<unknown>>();

  private key(server: string, issuer: string): string {
    return `${server}\n${issuer}`;
  }

  async get(server: string, issuer: string): Promise<StoredCredentials | undefined> {
    const r = this.records.get(this.key(server, issuer));
    return r ? structuredClone(r) : undefined;
  }

  async list(server: string): Promise<StoredCredentials[]> {
    return [...this.records.values()]
      .filter((r) => r.server === server)
      .sort((a, b) => b.updated_at - a.updated_at)
      .map((r) => structuredClone(r));
  }

  async set(record: StoredCredentials): Promise<void> {
    this.records.set(this.key(record.server, record.issuer), structuredClone(record));
  }

  async delete(server: string, issuer?: string): Promise<void> {
    for (const [k, r] of this.records) {
      if (r.server === server && (issuer === undefined || r.issuer === issuer)) this.records.delete(k);
    }
  }

  async withLock<T>(server: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(server) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(server, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(server) === tail) this.locks.delete(server);
    }
  }
}
