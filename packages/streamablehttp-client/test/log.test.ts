import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, redact } from '../src/log.js';
import { runBridge } from './helpers/bridge-run.js';
import { json, startFakeServer } from './helpers/fake-as.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

describe('log redaction', () => {
  it('an OAuth authorization code (a string `code`) is redacted, at any depth', () => {
    expect(redact({ code: 'SplxlOBeZQQYbYS6WxSbIA', state: 's' })).toEqual({
      code: '[redacted]',
      state: 's',
    });
    expect(redact({ callback: { code: 'abc', iss: 'https://as' } })).toEqual({
      callback: { code: '[redacted]', iss: 'https://as' },
    });
  });

  it('numeric codes (JSON-RPC, HTTP) and errorCode fields are logged as they are; tokens still are not', () => {
    expect(redact({ code: -32601, status: 500, errorCode: 'http_500', access_token: 'at' })).toEqual({
      code: -32601,
      status: 500,
      errorCode: 'http_500',
      access_token: '[redacted]',
    });
    const lines: string[] = [];
    createLogger('info', (l) => void lines.push(l)).info('x', { code: 404, error: { code: -32000 } });
    expect(JSON.parse(lines[0]!)).toMatchObject({ code: 404, error: { code: -32000 } });
  });

  it('the bridge logs an upstream failure with its error code', async () => {
    const s = await startFakeServer({ 'POST /mcp': () => json({ error: 'boom' }, 500) });
    closers.push(() => s.close());
    const lines: string[] = [];
    const bridge = runBridge({
      url: new URL(`${s.url}/mcp`),
      protocol: '2025-11-25',
      logger: createLogger('info', (l) => void lines.push(l)),
    });
    closers.push(() => bridge.stop());
    await bridge.request(1, 'tools/list');
    const failed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'upstream request failed');
    expect(failed).toMatchObject({ method: 'tools/list', errorCode: expect.stringMatching(/500/) });
    expect(JSON.stringify(failed)).not.toContain('[redacted]');
  });
});
