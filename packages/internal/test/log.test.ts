// The one Logger `(msg, fields)` (packages/internal, inlined into each package at build time).
import { describe, expect, it } from 'vitest';
import { childLogger, jsonLineLogger, logEnabled, silentLogger, type Logger } from '../src/log.js';

const at = Date.UTC(2026, 0, 2, 3, 4, 5);

function recorded(level?: Parameters<typeof jsonLineLogger>[0]['level']) {
  const lines: string[] = [];
  const log = jsonLineLogger({ level, write: (line) => lines.push(line), now: () => at });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('one Logger (msg, fields)', () => {
  it('a JSON line is {time, level, msg, ...fields}, one per call, newline-terminated', () => {
    const { log, lines, parsed } = recorded();
    log.info('started', { port: 3000 });
    expect(lines).toEqual([
      `${JSON.stringify({ time: new Date(at).toISOString(), level: 'info', msg: 'started', port: 3000 })}\n`,
    ]);
    expect(parsed()[0]).toMatchObject({ msg: 'started', port: 3000 });
  });

  it('lines below the level are dropped, and enabled() says so', () => {
    const { log, parsed } = recorded('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(parsed().map((l) => l.level)).toEqual(['warn', 'error']);
    expect([logEnabled(log, 'info'), logEnabled(log, 'warn')]).toEqual([false, true]);
    expect(recorded('silent').log.enabled?.('error')).toBe(false);
  });

  it('fields that cannot be serialised are left out, never thrown', () => {
    const { log, parsed } = recorded();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => log.error('boom', { cycle })).not.toThrow();
    expect(parsed()).toEqual([{ time: new Date(at).toISOString(), level: 'error', msg: 'boom' }]);
  });

  it('a time key and a field filter (redaction) can be chosen', () => {
    const lines: string[] = [];
    const log = jsonLineLogger({
      write: (l) => lines.push(l),
      now: () => at,
      timeKey: 't',
      fields: (f) => ({ ...f, token: '[redacted]' }),
    });
    log.info('x', { token: 'secret' });
    expect(JSON.parse(lines[0]!)).toEqual({
      t: new Date(at).toISOString(),
      level: 'info',
      msg: 'x',
      token: '[redacted]',
    });
  });

  it('childLogger adds fields to every line, through child() or by wrapping a plain logger', () => {
    const { log, parsed } = recorded();
    childLogger(childLogger(log, { service: 'a' }), { reqId: '1' }).info('hi', { n: 1 });
    const calls: Array<[string, unknown]> = [];
    const plain: Logger = {
      debug: (m, f) => calls.push([m, f]),
      info: (m, f) => calls.push([m, f]),
      warn: (m, f) => calls.push([m, f]),
      error: (m, f) => calls.push([m, f]),
    };
    childLogger(plain, { service: 'b' }).warn('w');
    expect(parsed()[0]).toMatchObject({ msg: 'hi', service: 'a', reqId: '1', n: 1 });
    expect(calls).toEqual([['w', { service: 'b' }]]);
    expect(logEnabled(plain, 'debug')).toBe(true);
  });

  it('silentLogger writes nothing and says so', () => {
    expect(logEnabled(silentLogger, 'error')).toBe(false);
    expect(childLogger(silentLogger, { a: 1 })).toBe(silentLogger);
  });
});
