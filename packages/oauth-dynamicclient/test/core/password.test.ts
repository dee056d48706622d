import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PASSWORD_COST,
  hashPassword,
  passwordNeedsRehash,
  verifyAndUpgradePassword,
  verifyPassword,
} from '../../src/index.js';

const LOW = { N: 1024, r: 8, p: 1 };

describe('local password hashes (scrypt)', () => {
  // The one test at the default cost (N=2^17 needs 128 MiB and ~100-300 ms).
  it('password: new hashes use scrypt N=2^17, r=8, p=1 by default (above Node’s default maxmem) and verify', async () => {
    expect(DEFAULT_PASSWORD_COST).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    const hash = await hashPassword('s3cret-passw0rd');
    const [scheme, N, r, p, salt, key] = hash.split('$');
    expect([scheme, Number(N), Number(r), Number(p)]).toEqual(['scrypt', 2 ** 17, 8, 1]);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(key!, 'base64url')).toHaveLength(32);
    expect(await verifyPassword('s3cret-passw0rd', hash)).toBe(true);
    expect(await verifyPassword('wrong', hash)).toBe(false);
    expect(passwordNeedsRehash(hash)).toBe(false);
  });

  it('password: hashes carry their parameters, so an old-cost hash (N=2^14) still verifies and is marked for upgrade', async () => {
    const old = await hashPassword('pw', { N: 2 ** 14, r: 8, p: 1 });
    expect(old).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('pw', old)).toBe(true);
    expect(passwordNeedsRehash(old)).toBe(true);
    expect(passwordNeedsRehash(old, { N: 2 ** 14, r: 8, p: 1 })).toBe(false);
    expect(passwordNeedsRehash(old, { N: 2 ** 14, r: 16, p: 1 })).toBe(true);
  });

  it('password: verifyAndUpgradePassword returns a replacement only for a correct password and a weaker hash', async () => {
    const old = await hashPassword('pw', LOW);
    expect(await verifyAndUpgradePassword('nope', old, { N: 2048, r: 8, p: 1 })).toEqual({ ok: false });
    const up = await verifyAndUpgradePassword('pw', old, { N: 2048, r: 8, p: 1 });
    expect(up.ok).toBe(true);
    expect(up.upgraded).toMatch(/^scrypt\$2048\$8\$1\$/);
    expect(await verifyPassword('pw', up.upgraded!)).toBe(true);
    expect(await verifyAndUpgradePassword('pw', up.upgraded!, { N: 2048, r: 8, p: 1 })).toEqual({ ok: true });
    // A stronger hash than the target is kept, never downgraded.
    expect(await verifyAndUpgradePassword('pw', up.upgraded!, LOW)).toEqual({ ok: true });
  });

  it('password: malformed or excessive hashes never match and are not upgraded', async () => {
    const good = await hashPassword('pw', LOW);
    const parts = good.split('$');
    for (const bad of [
      '',
      'bcrypt$1$2$3$4$5',
      parts.slice(0, 5).join('$'),
      ['scrypt', 1000, 8, 1, parts[4], parts[5]].join('$'), // N not a power of two
      ['scrypt', 2 ** 21, 8, 1, parts[4], parts[5]].join('$'), // above the 1 GiB ceiling
      ['scrypt', 1024, 64, 1, parts[4], parts[5]].join('$'),
      ['scrypt', 1024, 8, 1, parts[4], 'c2hvcnQ'].join('$'), // key too short
    ]) {
      expect(await verifyPassword('pw', bad), bad).toBe(false);
      expect(passwordNeedsRehash(bad), bad).toBe(false);
    }
  });

  it('password: passwords are NFC-normalised before hashing', async () => {
    const hash = await hashPassword('caf\u00e9', LOW);
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });
});
