// The per-request logger: lines carry the request id, and the bound child logger is made only
// when a line is written (most requests write none below the access line).
import type { LogFields, Logger } from '@mcp-gateway/internal/log';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../src/gateway/request-context.js';

function recording(level: 'debug' | 'info' | 'warn') {
  const lines: Array<{ level: string; msg: string; fields: LogFields }> = [];
  let children = 0;
  const rank = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const make = (bound: LogFields): Logger => {
    const line = (l: keyof typeof rank) => (msg: string, fields?: LogFields) => {
      if (rank[l] >= rank[level]) lines.push({ level: l, msg, fields: { ...bound, ...fields } });
    };
    return {
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      enabled: (l) => rank[l] >= rank[level],
      child: (fields) => {
        children++;
        return make({ ...bound, ...fields });
      },
    };
  };
  return { logger: make({}), lines, children: () => children };
}

describe('RequestContext as the request logger', () => {
  it('makes no child logger for a request that writes no line', () => {
    const r = recording('info');
    const t = new RequestContext(undefined, r.logger);
    t.debug('below the level', { a: 1 });
    expect(t.enabled('debug')).toBe(false);
    expect(t.enabled('warn')).toBe(true);
    expect(r.children()).toBe(0);
    expect(r.lines).toEqual([]);
  });

  it('binds the request id (the client-given one when well-formed) to every line and child', () => {
    const r = recording('debug');
    const t = new RequestContext('client-id.1', r.logger);
    t.info('one', { x: 1 });
    t.child({ service: 's' }).warn('two');
    expect(r.lines).toEqual([
      { level: 'info', msg: 'one', fields: { reqId: 'client-id.1', x: 1 } },
      { level: 'warn', msg: 'two', fields: { reqId: 'client-id.1', service: 's' } },
    ]);
    expect(r.children()).toBe(2);
  });

  it('replaces a malformed client request id with a UUID', () => {
    const t = new RequestContext('bad id with spaces', recording('info').logger);
    expect(t.reqId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
