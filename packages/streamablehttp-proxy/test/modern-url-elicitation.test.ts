import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RELAYS_TO_2025_META } from '../src/index.js';
import { closeAll, startBridge } from './helpers.js';
import { call2026, envelope, type RpcBody } from './modern-helpers.js';

// A 2025 child's "URL elicitation required" (-32042, MCP 2025-11-25) for 2026-07-28 clients, which
// that revision MUST NOT be sent (basic/index, "Error Codes"): it becomes an `input_required` result
// asking for each page with a URL-mode `elicitation/create` (client/elicitation, "URL Mode Flow"),
// whose retry replays the call on a child. The fixture's `url-elicit` tool answers -32042 until the
// file `done` exists, then "done"; `rpc-error` answers any code without data.

afterEach(closeAll);

const PAGE = 'https://connect.example/account?step=1';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const URL_MODE = { elicitation: { url: {} } };
const files: string[] = [];

afterEach(() => {
  for (const f of files.splice(0)) rmSync(f, { force: true });
});

/** A path no file is at yet (the fixture's `done`). */
function doneFile(): string {
  const f = join(tmpdir(), `bridge-url-elicitation-${randomUUID()}`);
  files.push(f);
  return f;
}

/** A `url-elicit` call whose client declares `caps`; `extra` adds params (the retry's). */
function urlElicit(
  url: string,
  done: string,
  caps: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return call2026(url, 'tools/call', {
    name: 'url-elicit',
    arguments: { url: PAGE, done },
    ...extra,
    _meta: envelope({ [CAPS]: caps }),
  });
}

/** The retry of `first`'s call with `action` for every page it asked. */
function retry(url: string, done: string, first: RpcBody, action: unknown) {
  const keys = Object.keys(first.result!.inputRequests as Record<string, unknown>);
  return urlElicit(url, done, URL_MODE, {
    inputResponses: Object.fromEntries(keys.map((k) => [k, { action }])),
    requestState: first.result!.requestState,
  });
}

describe('a caller that relays to a 2025 client (mcp-streamablehttp-proxy/relaysTo2025)', () => {
  it("gets the child's -32042 as it is, elicitationId included, whatever it declared; the child never sees the key", async () => {
    const b = await startBridge();
    const relayed = { [CAPS]: {}, [RELAYS_TO_2025_META]: true };
    const answer = await call2026(b.mcpUrl, 'tools/call', {
      name: 'url-elicit',
      arguments: { url: PAGE, done: doneFile() },
      _meta: envelope(relayed),
    });
    expect(answer.status).toBe(200);
    expect(answer.body.error).toMatchObject({
      code: -32042,
      data: { elicitations: [{ mode: 'url', url: PAGE, elicitationId: 'fixture-1' }] },
    });
    const meta = await call2026(b.mcpUrl, 'tools/call', {
      name: 'meta',
      arguments: {},
      _meta: envelope(relayed),
    });
    const seen = JSON.parse((meta.body.result!.content as Array<{ text: string }>)[0]!.text) as object;
    expect(Object.keys(seen)).not.toContain(RELAYS_TO_2025_META);
  });
});

describe("a 2025 child's URL elicitation (-32042) for 2026-07-28 clients", () => {
  it('is an input_required result with a URL-mode elicitation/create; retried, the call is replayed: asked again until the page was opened, then complete', async () => {
    const b = await startBridge();
    const done = doneFile();
    const first = await urlElicit(b.mcpUrl, done, URL_MODE);
    expect(first.status).toBe(200);
    expect(first.body.error).toBeUndefined();
    expect(first.body.result).toMatchObject({
      resultType: 'input_required',
      requestState: expect.any(String),
    });
    expect(first.body.result!.inputRequests).toEqual({
      url_elicitation: {
        method: 'elicitation/create',
        params: { mode: 'url', message: 'Open the page', url: PAGE },
      },
    });
    // 2026-07-28 forbids -32042 and has no elicitationId.
    expect(JSON.stringify(first.body)).not.toMatch(/32042|elicitationId/);
    const again = await retry(b.mcpUrl, done, first.body, 'accept');
    expect(again.body.result).toMatchObject({ resultType: 'input_required' });
    expect(Object.keys(again.body.result!.inputRequests as object)).toEqual(['url_elicitation']);
    writeFileSync(done, '');
    const finished = await retry(b.mcpUrl, done, again.body, 'accept');
    expect(finished.status).toBe(200);
    expect(finished.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'done' }] });
  });

  it('a declined or cancelled page replays the call too (the child decides); an answer that is no elicitation result is 400 -32602', async () => {
    const b = await startBridge();
    const done = doneFile();
    const first = await urlElicit(b.mcpUrl, done, URL_MODE);
    const declined = await retry(b.mcpUrl, done, first.body, 'decline');
    expect(declined.body.result).toMatchObject({ resultType: 'input_required' });
    writeFileSync(done, '');
    const cancelled = await retry(b.mcpUrl, done, first.body, 'cancel');
    expect(cancelled.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'done' }] });
    for (const action of ['maybe', undefined]) {
      const bad = await retry(b.mcpUrl, done, first.body, action);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/url_elicitation/),
      });
    }
  });

  it.each([
    ['no elicitation', {}],
    ['form mode only', { elicitation: {} }],
    ['form mode named', { elicitation: { form: {} } }],
  ])('a client declaring %s gets 400 -32021 naming elicitation.url', async (_what, caps) => {
    const b = await startBridge();
    const r = await urlElicit(b.mcpUrl, doneFile(), caps);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { elicitation: { url: {} } } },
    });
    expect(r.body.error!.message).toContain(PAGE);
  });

  it('a -32042 without a page to open is -32603, never -32042', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'tools/call', {
      name: 'rpc-error',
      arguments: { code: -32042 },
      _meta: envelope({ [CAPS]: URL_MODE }),
    });
    expect(r.status).toBe(200);
    expect(r.body.error).toMatchObject({ code: -32603, message: expect.stringMatching(/without a page/) });
  });
});
