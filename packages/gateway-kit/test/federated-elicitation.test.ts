// Issue 20, multi round-trip requests through a federated endpoint: the testkit's stdio fixture
// (real children) asks the client for elicitation or sampling during a call. Members are asked
// with 2026-07-28 requests and answer `input_required`; a federated 2025 session (MCP SDK 1.x
// client) gets the server→client request on the call's event stream and its answer completes
// the call; a 2026-07-28 caller (SDK 2.x client) gets `input_required` with the name mapping
// intact and its retry reaches the same member.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { fixtureMcpServerCommand, request2026 } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { elicit, federatedInput, textOf, type FederatedInput } from './helpers/federated-input.js';

const V2026 = '2026-07-28';
let fx: FederatedInput;

beforeAll(async () => {
  // Always prefixed: the member's own name (`elicit`) differs from the shown one (`fixture.elicit`).
  fx = await federatedInput(
    { fixture: { type: 'stdio', ...fixtureMcpServerCommand() } },
    { prefix: 'always', separator: '.' },
  );
});

describe('SEP-2322 through a federated 2025 session: input_required relayed as server→client requests', () => {
  it('elicitation: the member asks, the SDK 1.x client answers on the call stream, the call completes', async () => {
    const asked: string[] = [];
    await fx.withSdk1({ elicitation: {} }, elicit.acceptAda(asked), async (client) => {
      const r = await client.callTool({ name: 'fixture.elicit', arguments: { message: 'Your name?' } });
      expect(textOf(r)).toBe('hello Ada');
      expect(asked).toEqual(['Your name?']);
    });
  });

  it('two elicitations at once are both asked, and both answers reach the member', async () => {
    await fx.withSdk1({ elicitation: {} }, elicit.acceptFirstAndLast, async (client) => {
      const r = await client.callTool({ name: 'fixture.elicit-two', arguments: {} });
      expect(textOf(r)).toBe('hello Ada Lovelace');
    });
  });

  it('sampling: relayed the same way', async () => {
    const sampling = (c: ClientV1) =>
      c.setRequestHandler(CreateMessageRequestSchema, () => ({
        role: 'assistant',
        model: 'test',
        content: { type: 'text', text: 'sampled!' },
      }));
    await fx.withSdk1({ sampling: {} }, sampling, async (client) => {
      const r = await client.callTool({ name: 'fixture.sample', arguments: { prompt: 'hi' } });
      expect(textOf(r)).toBe('sampled!');
    });
  });

  it('a declined elicitation reaches the member as declined', async () => {
    await fx.withSdk1({ elicitation: {} }, elicit.decline, async (client) => {
      const r = await client.callTool({ name: 'fixture.elicit', arguments: { message: 'Your name?' } });
      expect(textOf(r)).toBe('hello (decline)');
    });
  });

  it('a client that did not declare elicitation is never asked: the member is refused, the call answers so', async () => {
    await fx.withSdk1({}, undefined, async (client) => {
      // The member's elicitation is refused, and the call fails with what the client lacked.
      await expect(
        client.callTool({ name: 'fixture.elicit', arguments: { message: 'Your name?' } }),
      ).rejects.toMatchObject({ code: -32021, message: expect.stringMatching(/elicitation/) });
    });
  });

  it('a client answer that belongs to no waiting request is accepted and ignored', async () => {
    await fx.withSdk1({ elicitation: {} }, undefined, async (client) => {
      const sessionId = (client.transport as TransportV1).sessionId!;
      const res = await fetch(`${fx.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${fx.token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'fed-input-999', result: { action: 'cancel' } }),
      });
      expect(res.status).toBe(202);
    });
  });
});

describe('SEP-2322 through the federated endpoint for 2026-07-28 callers', () => {
  it('input_required passes through under the shown name and the retry reaches the owning member', async () => {
    const client = new ClientV2(
      { name: 'sdk2', version: '1' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: V2026 } } },
    );
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(String((req.params as { message?: unknown }).message));
      return { action: 'accept', content: { name: 'Grace' } };
    });
    await client.connect(
      new TransportV2(new URL(`${fx.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${fx.token}` } },
      }),
    );
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const r = await client.callTool({ name: 'fixture.elicit', arguments: { message: 'Who?' } });
      expect(textOf(r)).toBe('hello Grace');
      expect(asked).toEqual(['Who?']);
    } finally {
      await client.close();
    }
  });

  it('a caller that did not declare elicitation: the member refuses with -32021, HTTP 400 as the spec says', async () => {
    const { body, headers } = request2026(
      'tools/call',
      { name: 'fixture.elicit', arguments: { message: 'Who?' } },
      { id: 4, capabilities: {} },
    );
    const res = await fetch(`${fx.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${fx.token}` },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      id: 4,
      error: { code: -32021, data: { requiredCapabilities: { elicitation: {} } } },
    });
  });

  it('the raw input_required result keeps the requestState, and a retry by the shown name completes', async () => {
    const post = (params: Record<string, unknown>) => {
      const args = { name: 'fixture.elicit', arguments: { message: 'Who?' }, ...params };
      const { body, headers } = request2026('tools/call', args, { id: 3, capabilities: { elicitation: {} } });
      return fetch(`${fx.url}/mcp`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${fx.token}` },
        body,
      });
    };
    const first = (await (await post({})).json()) as {
      result: { resultType: string; inputRequests: Record<string, { method: string }>; requestState: string };
    };
    expect(first.result.resultType).toBe('input_required');
    const [key, request] = Object.entries(first.result.inputRequests)[0]!;
    expect(request.method).toBe('elicitation/create');
    const second = (await (
      await post({
        inputResponses: { [key]: { action: 'accept', content: { name: 'Raw' } } },
        requestState: first.result.requestState,
      })
    ).json()) as { result: { resultType: string; content: Array<{ text: string }> } };
    expect(second.result.resultType).toBe('complete');
    expect(second.result.content[0]!.text).toBe('hello Raw');
  });
});
