// A 2025 member's URL elicitation (`-32042`, MCP 2025-11-25 URLElicitationRequiredError) through a
// federated endpoint: MCP 2026-07-28 has no -32042, so a 2026-07-28 caller gets an `input_required`
// result with a URL-mode `elicitation/create` and the endpoint's own signed `requestState`, and its
// retry is sent to the member again as first sent; a client without URL-mode elicitation gets
// -32021; a 2025 session still gets the member's -32042. A real gateway on 127.0.0.1 with real
// members: the fixture stdio child behind the bridge (`url-elicit` fails until a file exists) and
// a 2025-only SDK 1.x http server (`connect` fails until the test says the user connected).
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { fixtureMcpServerCommand, rawSession, request2026 } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';
import { listeningGateway } from './helpers/listening.js';
import { mrtrAnswer, type MrtrAnswer } from './helpers/mrtr-answer.js';

const URL_MODE = { elicitation: { url: {} } };
const PAGE = 'https://connect.example/account?step=1';

let gw: Gateway;
let base: string;
const tokens: Record<'alice' | 'bob', string> = { alice: '', bob: '' };
let old: LegacyServer;
/** Whether the 2025-only member's user has "connected" (its `connect` then answers). */
let connected = false;
/** Calls the 2025-only member's `connect` got. */
let oldCalls = 0;
const done = join(tmpdir(), `federated-url-elicitation-${randomUUID()}`);

beforeAll(async () => {
  old = await legacyMcpServer((mcp) => {
    mcp.registerTool('connect', {}, () => {
      oldCalls++;
      if (connected) return { content: [{ type: 'text', text: 'connected' }] };
      const elicitation = { mode: 'url' as const, elicitationId: 'e-1', url: PAGE, message: 'Connect first' };
      throw new UrlElicitationRequiredError([elicitation], 'connect your account first');
    });
  });
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      kid: { type: 'stdio', ...fixtureMcpServerCommand() },
      old: { type: 'http', url: `${old.url}/mcp` },
    },
    federated: [{ path: '/mcp', services: ['kid', 'old'], prefix: 'always' }],
  }));
  for (const user of ['alice', 'bob'] as const) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, '/mcp')).access_token;
  }
});

afterAll(async () => {
  await gw?.close(0);
  await old?.close();
  rmSync(done, { force: true });
});

/** A raw 2026-07-28 request of `user` to the endpoint. */
async function post2026(
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = URL_MODE,
  user: 'alice' | 'bob' = 'alice',
): Promise<MrtrAnswer> {
  const { body, headers } = request2026(method, params, { capabilities });
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${tokens[user]}` },
    body,
  });
  return mrtrAnswer(res);
}

const KID_CALL = () => ({ name: 'kid__url-elicit', arguments: { url: PAGE, done } });
const OLD_CALL = () => ({ name: 'old__connect', arguments: {} });

/** The retry of `first`'s call with the user's `action` on each page asked. */
function retry(call: Record<string, unknown>, first: MrtrAnswer, action: string, user?: 'alice' | 'bob') {
  const keys = Object.keys(first.result!.inputRequests!);
  const inputResponses = Object.fromEntries(keys.map((k) => [k, { action }]));
  const requestState = first.result!.requestState;
  return post2026('tools/call', { ...call, inputResponses, requestState }, URL_MODE, user);
}

describe("a 2025 member's URL elicitation (-32042) through a federated endpoint at 2026-07-28", () => {
  it('stdio child: input_required with a URL-mode elicitation/create; the retry reaches the member again and completes once the page was opened', async () => {
    const first = await post2026('tools/call', KID_CALL());
    expect(first.status).toBe(200);
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({ resultType: 'input_required', requestState: expect.any(String) });
    expect(Object.values(first.result!.inputRequests!)).toEqual([
      { method: 'elicitation/create', params: { mode: 'url', url: PAGE, message: 'Open the page' } },
    ]);
    // MCP 2026-07-28 removed the elicitationId and forbids -32042.
    expect(JSON.stringify(first)).not.toMatch(/elicitationId|32042/);
    // Not opened yet: the member asks again, and so does the endpoint (a fresh state).
    const again = await retry(KID_CALL(), first, 'accept');
    expect(again.result).toMatchObject({ resultType: 'input_required' });
    expect(again.result!.requestState).not.toBe(first.result!.requestState);
    writeFileSync(done, '');
    const finished = await retry(KID_CALL(), again, 'accept');
    expect(finished.error).toBeUndefined();
    expect(finished.result).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'done' }],
    });
    rmSync(done);
    // A 2025 session gets the member's -32042 as it is.
    const session = await rawSession(`${base}/mcp`, tokens.alice, '2025-11-25');
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...session, accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: KID_CALL() }),
    });
    const legacy = (await res.json()) as MrtrAnswer;
    expect(legacy.error).toMatchObject({
      code: -32042,
      data: { elicitations: [{ mode: 'url', url: PAGE, elicitationId: 'fixture-1' }] },
    });
  });

  it('a client that did not declare URL-mode elicitation gets -32021 (HTTP 400) naming it', async () => {
    for (const caps of [{}, { elicitation: { form: {} } }]) {
      const a = await post2026('tools/call', KID_CALL(), caps);
      expect(a.status).toBe(400);
      expect(a.error).toMatchObject({ code: -32021, data: { requiredCapabilities: URL_MODE } });
      expect(a.error!.message).toContain(PAGE);
    }
  });

  it("2025-only http member: the same step; the retry reaches the member as a call of its own (the endpoint's requestState, which its 2025 session would take for a waiting call's, left out)", async () => {
    connected = false;
    const first = await post2026('tools/call', OLD_CALL());
    expect(first.result).toMatchObject({ resultType: 'input_required' });
    expect(Object.values(first.result!.inputRequests!)).toEqual([
      { method: 'elicitation/create', params: { mode: 'url', url: PAGE, message: 'Connect first' } },
    ]);
    connected = true;
    oldCalls = 0;
    const finished = await retry(OLD_CALL(), first, 'accept');
    expect(finished.result).toMatchObject({ resultType: 'complete', content: [{ text: 'connected' }] });
    expect(oldCalls).toBe(1);
  });

  it('a declined retry the member still refuses is -32600; a requestState of another user, another call, or altered is -32602', async () => {
    connected = false;
    const first = await post2026('tools/call', OLD_CALL());
    const declined = await retry(OLD_CALL(), first, 'decline');
    expect(declined.status).toBe(200);
    expect(declined.error).toMatchObject({
      code: -32600,
      message: expect.stringContaining(`declined to open ${PAGE}`),
    });
    const state = first.result!.requestState!;
    for (const [why, a] of [
      ['another user', await retry(OLD_CALL(), first, 'accept', 'bob')],
      ['another call', await retry({ name: 'old__connect', arguments: { x: 1 } }, first, 'accept')],
      [
        'altered',
        await retry(
          OLD_CALL(),
          { result: { ...first.result, requestState: `${state.slice(0, -2)}AA` } } as MrtrAnswer,
          'accept',
        ),
      ],
    ] as const) {
      expect(a.status, why).toBe(400);
      expect(a.error?.code, why).toBe(-32602);
    }
  });
});
