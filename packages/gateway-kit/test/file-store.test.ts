import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { isRateLimitCounter } from '../src/gateway/stores.js';
import { FileKeyvAdapter, FileStoreError } from '../src/store/file-adapter.js';

const tmpFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'gw-store-')), 'data', 'store.json');

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('file store: Keyv adapter persisted to one JSON file', () => {
  it('values survive a new adapter on the same file (restart)', async () => {
    const file = tmpFile();
    const a = new Keyv({ store: new FileKeyvAdapter({ file }) });
    await a.set('client:1', { name: 'x', uris: ['http://127.0.0.1/cb'] });
    await a.set('n', 42);
    const b = new Keyv({ store: new FileKeyvAdapter({ file }) });
    expect(await b.get('client:1')).toEqual({ name: 'x', uris: ['http://127.0.0.1/cb'] });
    expect(await b.get('n')).toBe(42);
  });

  it('the file and its folder are private (0600 / 0700)', async () => {
    const file = tmpFile();
    await new Keyv({ store: new FileKeyvAdapter({ file }) }).set('k', 'v');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('ttl: an entry expires on the injected clock, and expired entries are not written back', async () => {
    const file = tmpFile();
    const c = clock();
    const adapter = new FileKeyvAdapter({ file, clock: c });
    await adapter.set('short', 'a', 1_000);
    await adapter.set('long', 'b', 10_000);
    await adapter.set('forever', 'c');
    c.advance(1_000);
    expect(await adapter.get('short')).toBeUndefined();
    expect(await adapter.get('long')).toBe('b');
    await adapter.set('touch', 'd');
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(onDisk.entries).sort()).toEqual(['forever', 'long', 'touch']);
    c.advance(10_000);
    const reopened = new FileKeyvAdapter({ file, clock: c });
    expect(await reopened.get('long')).toBeUndefined();
    expect(await reopened.get('forever')).toBe('c');
  });

  it('atomic write: concurrent sets all land, no temp file is left behind', async () => {
    const file = tmpFile();
    const adapter = new FileKeyvAdapter({ file });
    await Promise.all(Array.from({ length: 100 }, (_, i) => adapter.set(`k${i}`, i)));
    const reopened = new FileKeyvAdapter({ file });
    const values = await reopened.getMany<number>(Array.from({ length: 100 }, (_, i) => `k${i}`));
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(readdirSync(path.dirname(file))).toEqual(['store.json']);
  });

  it('delete reports whether something was removed and persists the removal', async () => {
    const file = tmpFile();
    const adapter = new FileKeyvAdapter({ file });
    await adapter.set('k', 'v');
    expect(await adapter.delete('k')).toBe(true);
    expect(await adapter.delete('k')).toBe(false);
    expect(await new FileKeyvAdapter({ file }).get('k')).toBeUndefined();
  });

  it('a change written by another process is picked up (CLI edits while the gateway runs)', async () => {
    const file = tmpFile();
    const running = new FileKeyvAdapter({ file, reloadCheckMs: 0 });
    await running.set('a', 1);
    const cli = new FileKeyvAdapter({ file });
    await cli.set('user:bob', 'hash');
    expect(await running.get('user:bob')).toBe('hash');
    expect(await running.get('a')).toBe(1);
  });

  it('a write first picks up what another process wrote, so it never overwrites it', async () => {
    const file = tmpFile();
    const running = new FileKeyvAdapter({ file, reloadCheckMs: 60_000 });
    await running.set('a', 1);
    await new FileKeyvAdapter({ file }).set('user:carol', 'hash');
    await running.set('b', 2); // within the read throttle window
    const fresh = new FileKeyvAdapter({ file });
    expect(await fresh.getMany(['a', 'b', 'user:carol'])).toEqual([1, 2, 'hash']);
  });

  it('a corrupt store file is an error at start, not silently emptied', () => {
    const file = tmpFile();
    new FileKeyvAdapter({ file });
    writeFileSync(file, '{not json');
    expect(() => new FileKeyvAdapter({ file })).toThrow(FileStoreError);
  });

  it('memoryOnly keys (rate-limit counters) are served from memory and never rewrite the file', async () => {
    const file = tmpFile();
    const c = clock();
    const adapter = new FileKeyvAdapter({ file, clock: c, memoryOnly: isRateLimitCounter });
    const kv = new Keyv({ store: adapter });
    await kv.set('kept', 1);
    const written = readFileSync(file, 'utf8');
    const { mtimeMs } = statSync(file);
    for (let i = 0; i < 50; i++) await kv.set('rl:pages:203.0.113.7:1', i, 60_000);
    expect(await kv.get('rl:pages:203.0.113.7:1')).toBe(49);
    expect([readFileSync(file, 'utf8'), statSync(file).mtimeMs]).toEqual([written, mtimeMs]);
    expect(adapter.size).toBe(2);
    c.advance(60_000);
    expect(await kv.get('rl:pages:203.0.113.7:1')).toBeUndefined();
    expect(await kv.delete('kept')).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('kept');
  });
});
