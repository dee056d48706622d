import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/events.js';
import { MemoryStore } from '../../src/store/keyv.js';
import { nativeClient, testServer } from '../helpers/server.js';

const hour = 60 * 60 * 1000;
const day = 24 * hour;

/** Resolves with the first `client.deleted` audit event for `clientId`. */
function deletion(audit: AuditRecord[], clientId: string): Promise<AuditRecord> {
  return new Promise((resolve) => {
    const push = audit.push.bind(audit);
    audit.push = (...records: AuditRecord[]) => {
      for (const r of records)
        if (r.type === 'client.deleted' && (r as { clientId?: string }).clientId === clientId) resolve(r);
      return push(...records);
    };
  });
}

describe('client reaping on a timer (clientReapIntervalMs)', () => {
  it('reaping: a client never used is reaped by the timer after unusedClientTtlMs, a used one is kept; close() stops the timer', async () => {
    const { server, clock, audit } = testServer({ clientReapIntervalMs: hour });
    const unused = (await server.clients.register(nativeClient)).client.client_id;
    const used = (await server.clients.register(nativeClient)).client.client_id;
    const reaped = deletion(audit, unused);
    clock.advance(hour);
    await server.context.clients.touch(used);
    for (let i = 0; i < 24; i++) clock.advance(hour);
    expect(await reaped).toMatchObject({ type: 'client.deleted', reason: 'expired' });
    // close() waits for the reaping pass in flight, then stops the timer.
    await server.close({ store: false });
    expect(clock.pendingTimers).toBe(0);
    expect(await server.clients.list()).toEqual([used]);
    expect(await server.clients.get(used)).toBeDefined();
    expect(audit.filter((e) => e.type === 'client.deleted')).toHaveLength(1);
  });

  it('reaping: use renews a client past clientTtlMs; once idle past it, the timer reaps it and runs the deletion hooks', async () => {
    const { server, clock, audit } = testServer({
      clientReapIntervalMs: hour,
      registration: { clientTtlMs: 10 * day },
    });
    const hooks: string[] = [];
    server.context.clients.onDeleted((id, reason) => void hooks.push(`${id}:${reason}`));
    const id = (await server.clients.register(nativeClient)).client.client_id;
    await server.context.clients.touch(id);
    for (let i = 0; i < 4; i++) {
      clock.advance(6 * day); // 24 days in all: well past one clientTtlMs
      expect(await server.clients.get(id)).toBeDefined();
      await server.context.clients.touch(id);
    }
    const reaped = deletion(audit, id);
    clock.advance(10 * day + hour);
    expect(await reaped).toMatchObject({ reason: 'expired' });
    await server.close();
    expect(hooks).toEqual([`${id}:expired`]);
    expect(audit.filter((e) => e.type === 'client.deleted')).toHaveLength(1);
  });

  it('reaping: clientReapIntervalMs 0 schedules no timer; expired clients wait for clients.reap()', async () => {
    const { server, clock } = testServer({ clientReapIntervalMs: 0 });
    expect(clock.pendingTimers).toBe(0);
    const id = (await server.clients.register(nativeClient)).client.client_id;
    clock.advance(2 * day);
    expect(await server.clients.list()).toEqual([id]);
    expect(await server.clients.reap()).toBe(1);
    expect(await server.clients.list()).toEqual([]);
  });

  it('close(): stops the timer and closes the store once; { store: false } leaves a shared store open', async () => {
    const store = new MemoryStore();
    let closed = 0;
    const close = store.close.bind(store);
    store.close = () => {
      closed++;
      return close();
    };
    const a = testServer({ store, clientReapIntervalMs: hour });
    const b = testServer({ store, clientReapIntervalMs: hour, clock: a.clock });
    expect(a.clock.pendingTimers).toBe(2);
    await a.server.close({ store: false });
    expect(a.clock.pendingTimers).toBe(1);
    expect(closed).toBe(0);
    const reg = await b.server.clients.register(nativeClient);
    expect(await b.server.clients.get(reg.client.client_id)).toBeDefined();
    await Promise.all([b.server.close(), b.server.close()]);
    expect(a.clock.pendingTimers).toBe(0);
    expect(closed).toBe(1);
  });
});
