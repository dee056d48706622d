// A 2026-07-28 call to a stdio service is handed up to the node edge before its child answers (a
// late answer): the client still gets the child's status, the access line and the request metric
// take that status when it settles, and a client that leaves first cancels the child's call.
import { fixtureMcpServerCommand, request2026 } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import { createLogger } from '../src/ops/logger.js';
import { listeningGateway } from './helpers/listening.js';

/** How long a test waits for what happens after a response (generous: CI machines are busy). */
const SOON = { timeout: 10_000 };

/** Every log line of the gateway, parsed. */
const lines: Record<string, unknown>[] = [];
let base: string;
let token: string;

beforeAll(async () => {
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const { gw, url } = await listeningGateway(
    { issuer: 'http://127.0.0.1', services: { fixture: { type: 'stdio', ...fixtureMcpServerCommand() } } },
    {},
    { logger },
  );
  base = url;
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', 'fixture')).access_token;
});

/** A 2026-07-28 POST to the fixture service as alice. */
function post2026(
  method: string,
  params: Record<string, unknown>,
  init: { accept?: string; signal?: AbortSignal } = {},
) {
  const { body, headers } = request2026(method, params, {
    id: 7,
    ...(init.accept ? { accept: init.accept } : {}),
  });
  return fetch(`${base}/fixture/mcp`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${token}` },
    body,
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

/** `mcp_gateway_http_requests_total` of services for `status` (this gateway has one). */
async function requests(status: number): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`mcp_gateway_http_requests_total{route="service",status="${status}"}`));
  return Number(line?.split(' ').pop() ?? 0);
}

/** Access lines of the fixture service with `status`. */
const accessLines = (status: number) =>
  lines.filter((l) => l.msg === 'request' && l.route === 'service:fixture' && l.status === status);

describe('2026-07-28 calls answered when the child answers (late answers at the node edge)', () => {
  it('a method the stdio server lacks: 404 -32601 to the client, 404 in the access line and the request metric', async () => {
    const before = await requests(404);
    const res = await post2026('nothing/here', {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error?: { code: number } }).error?.code).toBe(-32601);
    await vi.waitFor(async () => expect(await requests(404)).toBe(before + 1), SOON);
    expect(accessLines(404)).toHaveLength(1);
  });

  it('a JSON answer and a call that turns into an event stream both arrive whole, counted as 200', async () => {
    const before = await requests(200);
    const json = await post2026('tools/call', { name: 'echo', arguments: { text: 'late' } });
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(json.headers.get('x-request-id')).toBeTruthy();
    expect(await json.text()).toContain('"text":"late"');
    // Past 200 ms with nothing to stream the answer becomes an event stream (closing it cancels).
    const streamed = await post2026('tools/call', { name: 'slow', arguments: { ms: 400 } });
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    expect(await streamed.text()).toContain('slept 400ms');
    await vi.waitFor(async () => expect(await requests(200)).toBe(before + 2), SOON);
  });

  it('a client that leaves before the answer: the child’s call is cancelled and the request is logged as 499', async () => {
    const started = (l: Record<string, unknown>) => l.msg === 'child stderr' && l.line === 'slow started';
    const startedBefore = lines.filter(started).length;
    const ac = new AbortController();
    const pending = post2026(
      'tools/call',
      { name: 'slow', arguments: { ms: 30_000 } },
      { accept: 'application/json', signal: ac.signal },
    ).then(
      () => 'answered',
      (err: Error) => err.name,
    );
    await vi.waitFor(() => expect(lines.filter(started).length).toBe(startedBefore + 1), SOON);
    ac.abort();
    expect(await pending).toBe('AbortError');
    const cancelled = (l: Record<string, unknown>) =>
      l.msg === 'child stderr' && String(l.line).startsWith('slow cancelled');
    await vi.waitFor(() => expect(lines.some(cancelled)).toBe(true), SOON);
    await vi.waitFor(() => expect(accessLines(499)).toHaveLength(1), SOON);
    expect(await requests(499)).toBe(1);
  });
});
