import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { MemoryStore } from '../../src/store/index.js';
import { JtiReplayGuard } from '../../src/tokens/jti-replay.js';

describe('rfc7523 §3: one-time jti, held only while the JWT is valid', () => {
  it('a jti is accepted once per issuer; another issuer may use the same jti', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const guard = new JtiReplayGuard(new MemoryStore({ clock }), clock, 10);
    const exp = 1_800_000_060;
    expect(await guard.firstUse('client:a', 'j1', exp)).toBe(true);
    expect(await guard.firstUse('client:a', 'j1', exp)).toBe(false);
    expect(await guard.firstUse('client:b', 'j1', exp)).toBe(true);
  });

  it('bound: the record expires with the JWT (exp plus skew), so the store holds only live assertions', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const store = new MemoryStore({ clock });
    const guard = new JtiReplayGuard(store, clock, 10);
    await guard.firstUse('client:a', 'j2', 1_800_000_060);
    clock.advance(69_000);
    expect(await guard.firstUse('client:a', 'j2', 1_800_000_060)).toBe(false);
    clock.advance(2_000);
    // Past exp + skew the JWT is refused by its exp anyway; its jti record is gone.
    expect(await guard.firstUse('client:a', 'j2', 1_800_000_060)).toBe(true);
  });
});
