import { conformanceEverythingServer2026Command } from '@mcp-gateway/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startBridge } from './helpers.js';
import { call2026, envelope } from './modern-helpers.js';

// MRTR details the 2026-07-28 conformance scenarios rely on, over testkit's 2026 fixture (a 2025
// stdio server whose tools make ordinary elicitation/sampling/roots requests): keys the child
// names, answers given without requestState, and capabilities the client did not declare.

afterEach(closeAll);

const fixture = conformanceEverythingServer2026Command();
const start = () => startBridge({ command: fixture.command, args: fixture.args });
const caps = (c: Record<string, unknown>) => envelope({ 'io.modelcontextprotocol/clientCapabilities': c });
const tool = (name: string, extra: Record<string, unknown> = {}) => ({ name, arguments: {}, ...extra });
const accept = (content: Record<string, unknown>) => ({ action: 'accept', content });
type Asked = Record<string, { method: string; params: Record<string, unknown> }>;

describe('2026 MRTR: input keys and capabilities', () => {
  it('the key the child names in _meta (mcp-streamablehttp-proxy/inputKey) is the inputRequests key, and is not passed on', async () => {
    const b = await start();
    const first = await call2026(b.mcpUrl, 'tools/call', tool('test_input_required_result_elicitation'));
    expect(first.body.result).toMatchObject({ resultType: 'input_required' });
    const asked = first.body.result!.inputRequests as Asked;
    expect(Object.keys(asked)).toEqual(['user_name']);
    expect(asked.user_name!.method).toBe('elicitation/create');
    expect(asked.user_name!.params._meta).toBeUndefined();
    const done = await call2026(
      b.mcpUrl,
      'tools/call',
      tool('test_input_required_result_elicitation', {
        inputResponses: { user_name: accept({ name: 'Alice' }) },
        requestState: first.body.result!.requestState,
      }),
    );
    expect(done.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'Hello, Alice!' }] });
  });

  it('an answer under the asked key is used without requestState (unknown keys ignored); one that is not an object is 400 -32602', async () => {
    const b = await start();
    const done = await call2026(
      b.mcpUrl,
      'tools/call',
      tool('test_input_required_result_elicitation', {
        inputResponses: { user_name: accept({ name: 'Bob' }), extra: accept({ x: 1 }) },
      }),
    );
    expect(done.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'Hello, Bob!' }] });
    const bad = await call2026(
      b.mcpUrl,
      'tools/call',
      tool('test_input_required_result_elicitation', { inputResponses: { user_name: 12345 } }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe(-32602);
  });

  it('multi-round: each round carries the answers so far in a new requestState', async () => {
    const b = await start();
    const name = 'test_input_required_result_multi_round';
    const r1 = await call2026(b.mcpUrl, 'tools/call', tool(name));
    expect(Object.keys(r1.body.result!.inputRequests as Asked)).toEqual(['step1']);
    const r2 = await call2026(
      b.mcpUrl,
      'tools/call',
      tool(name, {
        inputResponses: { step1: accept({ name: 'Ann' }) },
        requestState: r1.body.result!.requestState,
      }),
    );
    expect(Object.keys(r2.body.result!.inputRequests as Asked)).toEqual(['step2']);
    expect(r2.body.result!.requestState).not.toBe(r1.body.result!.requestState);
    const r3 = await call2026(
      b.mcpUrl,
      'tools/call',
      tool(name, {
        inputResponses: { step2: accept({ color: 'blue' }) },
        requestState: r2.body.result!.requestState,
      }),
    );
    expect(r3.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'Ann likes blue' }] });
  });

  it('an undeclared capability is refused to the child: a server that copes asks only for the rest', async () => {
    const b = await start();
    const name = 'test_input_required_result_capabilities';
    const first = await call2026(b.mcpUrl, 'tools/call', tool(name, { _meta: caps({ sampling: {} }) }));
    const asked = first.body.result!.inputRequests as Asked;
    expect(Object.values(asked).map((a) => a.method)).toEqual(['sampling/createMessage']);
    const done = await call2026(
      b.mcpUrl,
      'tools/call',
      tool(name, {
        _meta: caps({ sampling: {} }),
        inputResponses: {
          [Object.keys(asked)[0]!]: { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' },
        },
        requestState: first.body.result!.requestState,
      }),
    );
    expect(done.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'sampled: hi' }] });
  });

  it('an undeclared capability the call then fails without is 400 -32021 naming it; declared, it is asked for', async () => {
    const b = await start();
    const refused = await call2026(
      b.mcpUrl,
      'tools/call',
      tool('test_missing_capability', { _meta: caps({}) }),
      { accept: 'application/json, text/event-stream' },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { sampling: {} } },
    });
    const asked = await call2026(
      b.mcpUrl,
      'tools/call',
      tool('test_missing_capability', { _meta: caps({ sampling: {} }) }),
    );
    expect(asked.body.result).toMatchObject({ resultType: 'input_required' });
  });
});
