import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import type { GatewayConfigInput } from '../src/config/schema.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { FileStoreError } from '../src/store/file-adapter.js';
import { importFileStore } from '../src/store/import-file-store.js';

const ISSUER = 'http://127.0.0.1:8080';
const open: Gateway[] = [];
afterAll(async () => {
  for (const gw of open) await gw.close(0).catch(() => {});
});

async function start(dataDir: string, store?: GatewayConfigInput['store']): Promise<Gateway> {
  const { config } = resolveConfig({ issuer: ISSUER, dataDir, ...(store ? { store } : {}) }, { env: {} });
  const gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  open.push(gw);
  return gw;
}
const stop = async (gw: Gateway) => {
  await gw.close(0);
  open.splice(open.indexOf(gw), 1);
};

async function register(gw: Gateway, name: string) {
  const res = await gw.fetch(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: name, redirect_uris: ['http://127.0.0.1:9999/cb'] }),
    }),
  );
  expect(res.status).toBe(201);
  return (await res.json()) as { client_id: string; registration_access_token: string };
}

const readRegistration = (gw: Gateway, c: { client_id: string; registration_access_token: string }) =>
  gw.fetch(
    new Request(`${ISSUER}/register/${c.client_id}`, {
      headers: { authorization: `Bearer ${c.registration_access_token}` },
    }),
  );

describe('store.json of the file store is imported into the embedded store once', () => {
  it('clients, users and indexes carry over; the file is kept as a backup; a second start does not re-import', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-import-'));
    // An install of the previous version: the file store, with two clients and a user.
    const old = await start(dataDir, { type: 'file' });
    const kept = await register(old, 'kept');
    const removedLater = await register(old, 'removed later');
    await old.users.put('bob', 'bob-password-1', 'Bob');
    await stop(old);
    expect(readdirSync(dataDir)).toContain('store.json');

    // First start of this version, with the default store.
    const gw = await start(dataDir);
    expect(gw.config.store.type).toBe('embedded');
    const files = readdirSync(dataDir);
    expect(files).not.toContain('store.json');
    expect(files.filter((f) => /^store\.json\.imported-\d{4}-\d\d-\d\dT\d{6}Z$/.test(f))).toHaveLength(1);
    expect(files).toContain('store.mdb');
    const res = await readRegistration(gw, kept);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { client_name: string }).client_name).toBe('kept');
    expect((await gw.authorization.server.clients.list()).sort()).toEqual(
      [kept.client_id, removedLater.client_id].sort(),
    );
    expect((await gw.users.get('bob'))?.name).toBe('Bob');
    // A change after the import, then a restart: the import does not run again.
    expect(await gw.authorization.server.clients.delete(removedLater.client_id)).toBe(true);
    const third = await register(gw, 'after import');
    await stop(gw);

    const again = await start(dataDir);
    expect((await readRegistration(again, removedLater)).status).toBe(401);
    expect((await readRegistration(again, third)).status).toBe(200);
    expect((await again.authorization.server.clients.list()).sort()).toEqual(
      [kept.client_id, third.client_id].sort(),
    );
    expect(readdirSync(dataDir).filter((f) => f.startsWith('store.json'))).toHaveLength(1);
    await stop(again);
  });

  it('a store.json that is not the file store’s JSON stops the start and is left in place', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-import-'));
    writeFileSync(path.join(dataDir, 'store.json'), '{"entries": {"keyv:a"');
    await expect(start(dataDir)).rejects.toBeInstanceOf(FileStoreError);
    expect(existsSync(path.join(dataDir, 'store.json'))).toBe(true);
  });
});

describe('importFileStore', () => {
  it('a crash between the import and the rename: the next start only renames, keeping later writes', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-import-'));
    const old = await start(dataDir, { type: 'file' });
    await old.users.put('bob', 'bob-password-1', 'Bob');
    await stop(old);
    const file = path.join(dataDir, 'store.json');
    copyFileSync(file, `${file}.copy`);

    const store = new EmbeddedStore({ path: path.join(dataDir, 'store.mdb') });
    try {
      const now = Date.now();
      expect(importFileStore(store, file, now)?.entries).toBeGreaterThan(0);
      await store.set('gateway:users', {}); // a change after the import
      // As if the process had died before renaming: the old file is back.
      copyFileSync(`${file}.copy`, file);
      const again = importFileStore(store, file, now);
      expect(again?.backup).toMatch(/store\.json\.imported-.*-2$/);
      expect(existsSync(file)).toBe(false);
      expect(await store.get('gateway:users')).toEqual({});
    } finally {
      await store.close();
    }
  });
});
