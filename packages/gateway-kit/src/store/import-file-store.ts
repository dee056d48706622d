import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { EmbeddedStore } from './embedded.js';
import { FileStoreError } from './file-adapter.js';

/** Store key recording that (and when) a `store.json` was imported. */
export const IMPORTED_KEY = 'gateway:store:imported';

/** What {@link importFileStore} did. */
export interface FileStoreImport {
  /** Entries copied (expired ones are left out). */
  entries: number;
  /** Where the old file now is. */
  backup: string;
}

/**
 * One entry of a `store.json` written by the file store (Keyv over
 * `FileKeyvAdapter`, through `keyvStore`): `keyv:<key>` → `[keyvJson, expiresAt|null]`,
 * where `keyvJson` is `{"value": "<envelope json>", "expires"?}` and the
 * envelope is `{v, e?}`. Returns `undefined` for anything else.
 */
function decode(
  rawKey: string,
  raw: unknown,
  now: number,
): { key: string; value: unknown; expiresAt?: number } | undefined {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return undefined;
  const key = rawKey.startsWith('keyv:') ? rawKey.slice('keyv:'.length) : rawKey;
  try {
    const outer = JSON.parse(raw[0]) as { value?: unknown };
    const env = (typeof outer.value === 'string' ? JSON.parse(outer.value) : undefined) as
      { v: unknown; e?: number } | undefined;
    if (env === undefined || !('v' in env)) return undefined;
    const expiresAt = env.e ?? (typeof raw[1] === 'number' ? raw[1] : undefined);
    if (expiresAt !== undefined && expiresAt <= now) return undefined;
    return expiresAt === undefined ? { key, value: env.v } : { key, value: env.v, expiresAt };
  } catch {
    return undefined;
  }
}

/** `store.json.imported-2026-12-02T114500Z`: the backup's name, by the time of the import. */
function backupName(file: string, now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  let name = `${file}.imported-${stamp}`;
  for (let i = 2; existsSync(name); i++) name = `${file}.imported-${stamp}-${i}`;
  return name;
}

/**
 * Moves the entries of the old file store's `store.json` into `store`, once:
 * the copy and a marker ({@link IMPORTED_KEY}) commit in one transaction,
 * then the file is renamed to `store.json.imported-<time>` and kept as a
 * backup. A crash between the two leaves the marker, so the next start only
 * renames; of two processes starting at once, one imports. Synchronous: it
 * runs before the gateway serves anything.
 *
 * @returns what was imported, or `undefined` when there is no `store.json`.
 * @throws FileStoreError when the file is not the file store's JSON (nothing is imported then).
 */
export function importFileStore(
  store: EmbeddedStore,
  file: string,
  now = Date.now(),
): FileStoreImport | undefined {
  if (!existsSync(file)) return undefined;
  if (store.getSync(IMPORTED_KEY) === undefined) {
    let doc: { entries?: Record<string, unknown> };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
    } catch (err) {
      throw new FileStoreError(`cannot import ${file}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof doc !== 'object' || doc === null || typeof doc.entries !== 'object' || doc.entries === null) {
      throw new FileStoreError(`cannot import ${file}: not a store file (no "entries")`);
    }
    const rows = [];
    for (const [key, raw] of Object.entries(doc.entries)) {
      const row = decode(key, raw, now);
      if (row) rows.push(row);
    }
    const marker = { from: file, at: new Date(now).toISOString(), entries: rows.length };
    // Another process (a CLI command started at the same moment) may have imported meanwhile.
    store.putManySync([...rows, { key: IMPORTED_KEY, value: marker }], IMPORTED_KEY);
  }
  const backup = backupName(file, now);
  try {
    renameSync(file, backup);
  } catch (err) {
    // Renamed by that other process already.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const marker = store.getSync<{ entries: number }>(IMPORTED_KEY);
  return { entries: marker?.entries ?? 0, backup };
}
