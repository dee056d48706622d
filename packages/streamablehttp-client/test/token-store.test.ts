import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FileTokenStore,
  MemoryTokenStore,
  defaultStoreHome,
  type StoredCredentials,
  type TokenStore,
} from '../src/index.js';
import { acquireLockFile } from '../src/store/lock-file.js';

const homes: string[] = [];
async function tempHome(): Promise<string> {
  const h = await fs.mkdtemp(path.join(os.tmpdir(), 'mcp-client-store-'));
  homes.push(h);
  return path.join(h, 'home');
}
afterAll(async () => {
  await Promise.all(homes.map((h) => fs.rm(h, { recursive: true, force: true })));
});

const record = (over: Partial<StoredCredentials> = {}): StoredCredentials => ({
  version: 1,
  server: 'https://mcp.example/mcp',
  issuer: 'https://as.example/',
  resource: 'https://mcp.example/mcp',
  client: { client_id: 'c1', redirect_uris: ['http://127.0.0.1:5000/callback'], source: 'dcr' },
  tokens: { access_token: 'at', token_type: 'bearer', refresh_token: 'rt', expires_at: 1000, obtained_at: 0 },
  updated_at: 1,
  ...over,
});

describe('token store location', () => {
  it('store: MCP_STREAMABLEHTTP_CLIENT_HOME overrides; else XDG_CONFIG_HOME; else ~/.config — never a versioned folder', () => {
    expect(defaultStoreHome({ MCP_STREAMABLEHTTP_CLIENT_HOME: '/x/y' }, 'linux')).toBe('/x/y');
    expect(defaultStoreHome({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/mcp-streamablehttp-client');
    expect(defaultStoreHome({ XDG_CONFIG_HOME: 'relative' }, 'linux')).toBe(
      path.join(os.homedir(), '.config', 'mcp-streamablehttp-client'),
    );
    expect(defaultStoreHome({}, 'linux')).toBe(
      path.join(os.homedir(), '.config', 'mcp-streamablehttp-client'),
    );
    expect(defaultStoreHome({}, 'linux')).not.toMatch(/\d+\.\d+/);
  });
});

for (const [name, make] of [
  ['file', async () => new FileTokenStore({ home: await tempHome() })],
  ['memory', async () => new MemoryTokenStore()],
] as Array<[string, () => Promise<TokenStore>]>) {
  describe(`${name} token store contract`, () => {
    it(`${name} store: set/get/list/delete keyed by (server, issuer)`, async () => {
      const store = await make();
      expect(await store.get('https://mcp.example/mcp', 'https://as.example/')).toBeUndefined();
      await store.set(record());
      await store.set(record({ issuer: 'https://other-as.example/', updated_at: 2 }));
      await store.set(record({ server: 'https://elsewhere/mcp' }));
      expect(await store.get('https://mcp.example/mcp', 'https://as.example/')).toEqual(record());
      expect((await store.list('https://mcp.example/mcp')).map((r) => r.issuer)).toEqual([
        'https://other-as.example/',
        'https://as.example/',
      ]);
      await store.delete('https://mcp.example/mcp', 'https://as.example/');
      expect((await store.list('https://mcp.example/mcp')).map((r) => r.issuer)).toEqual([
        'https://other-as.example/',
      ]);
      await store.delete('https://mcp.example/mcp');
      expect(await store.list('https://mcp.example/mcp')).toEqual([]);
      expect(await store.list('https://elsewhere/mcp')).toHaveLength(1);
    });

    it(`${name} store: withLock runs callers one at a time`, async () => {
      const store = await make();
      const order: string[] = [];
      await Promise.all(
        ['a', 'b', 'c'].map((n) =>
          store.withLock('https://mcp.example/mcp', async () => {
            order.push(`${n}+`);
            await new Promise((r) => setImmediate(r));
            order.push(`${n}-`);
          }),
        ),
      );
      for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
    });
  });
}

describe('file token store on disk', () => {
  it('file store: files 0600 in 0700 folders, atomic (no temp files left), format version 1', async () => {
    const home = await tempHome();
    const store = new FileTokenStore({ home });
    await store.set(record());
    const dir = path.join(home, 'credentials');
    const files = await fs.readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{32}\.json$/);
    expect((await fs.stat(path.join(dir, files[0]!))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await fs.readFile(path.join(dir, files[0]!), 'utf8'))).toMatchObject({ version: 1 });
  });

  it('file store: a file from a newer format is refused with a clear message, not overwritten', async () => {
    const home = await tempHome();
    const store = new FileTokenStore({ home });
    await store.set(record());
    const file = store.fileFor('https://mcp.example/mcp', 'https://as.example/');
    await fs.writeFile(file, JSON.stringify({ ...record(), version: 2 }));
    await expect(store.get('https://mcp.example/mcp', 'https://as.example/')).rejects.toThrow(
      /written by a newer mcp-streamablehttp-client \(format 2\)/,
    );
  });

  it('file store: a corrupt file reads as absent', async () => {
    const home = await tempHome();
    const store = new FileTokenStore({ home });
    await store.set(record());
    await fs.writeFile(store.fileFor('https://mcp.example/mcp', 'https://as.example/'), '{garbage');
    expect(await store.get('https://mcp.example/mcp', 'https://as.example/')).toBeUndefined();
  });
});

describe('lock file', () => {
  it('lock: O_EXCL lock is exclusive; the second taker waits for release', async () => {
    const dir = await tempHome();
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'x.lock');
    const release = await acquireLockFile(file);
    let second = false;
    const waiting = acquireLockFile(file, { retryMs: 5 }).then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(second).toBe(false);
    await release();
    const release2 = await waiting;
    expect(second).toBe(true);
    await release2();
    await expect(fs.stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('lock: a lock left by a dead process is taken over (stale detection by pid)', async () => {
    const dir = await tempHome();
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'x.lock');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((r) => child.once('exit', r));
    await fs.writeFile(
      file,
      JSON.stringify({ pid: deadPid, hostname: os.hostname(), created_at: Date.now(), nonce: 'old' }),
    );
    const release = await acquireLockFile(file, { timeoutMs: 2000 });
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
    await release();
  });

  it('lock: a live owner is waited for, and the wait times out with a clear error', async () => {
    const dir = await tempHome();
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'x.lock');
    await fs.writeFile(
      file,
      JSON.stringify({ pid: process.pid, hostname: os.hostname(), created_at: Date.now(), nonce: 'live' }),
    );
    await expect(acquireLockFile(file, { timeoutMs: 100, retryMs: 10 })).rejects.toThrow(
      /timed out waiting for the credentials lock/,
    );
  });

  it('lock: a lock older than staleMs is taken over even if the pid looks alive', async () => {
    const dir = await tempHome();
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'x.lock');
    await fs.writeFile(
      file,
      JSON.stringify({ pid: process.pid, hostname: os.hostname(), created_at: 0, nonce: 'ancient' }),
    );
    const release = await acquireLockFile(file, { staleMs: 1000, timeoutMs: 2000 });
    await release();
  });
});
