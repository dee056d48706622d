import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resultText } from '@mcp-gateway/internal/result-text';
import { completeAnswer } from '../src/modern/wire.js';
import { META } from '../src/modern/envelope.js';

const serverInfo = { name: 'fixture "server"\n', version: '1.0.0' };

/** The answer as the general path builds it: the result copied, `resultType` and the server's info merged in. */
function slowPath(id: string | number, result: Record<string, unknown>) {
  return {
    jsonrpc: '2.0',
    id,
    result: { ...result, resultType: 'complete', _meta: { [META.serverInfo]: serverInfo } },
  };
}

describe('completeAnswer: the 2026 answer serialised once from the child result', () => {
  it('is the same JSON as the general path for any result without _meta or resultType', () => {
    const result = fc.dictionary(
      fc.string().filter((k) => k !== '_meta' && k !== 'resultType' && k !== '__proto__'),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string()), result, (id, r) => {
        const text = completeAnswer(id, r, JSON.stringify(serverInfo));
        expect(text).toBeDefined();
        expect(JSON.parse(text!)).toEqual(JSON.parse(JSON.stringify(slowPath(id, r))));
      }),
    );
  });

  it('handles an empty result (no comma before resultType)', () => {
    const text = completeAnswer(7, {}, JSON.stringify(serverInfo))!;
    expect(JSON.parse(text)).toEqual(slowPath(7, {}));
  });

  it('declines results that carry _meta or resultType (they are merged by the general path)', () => {
    const info = JSON.stringify(serverInfo);
    expect(completeAnswer(1, { content: [], _meta: { a: 1 } }, info)).toBeUndefined();
    expect(completeAnswer(1, { content: [], resultType: 'complete' }, info)).toBeUndefined();
  });
});

describe('resultText: the child result as the child wrote it, not serialised again', () => {
  const result = fc
    .dictionary(
      fc.string().filter((k) => k !== '_meta' && k !== 'resultType' && k !== '__proto__'),
      fc.jsonValue(),
    )
    .filter((r) => Object.keys(r).length > 0);
  const info = JSON.stringify(serverInfo);

  it('is the result text in either member order the SDKs write, and the answer is the same JSON', () => {
    fc.assert(
      fc.property(fc.nat(), result, fc.boolean(), (n, r, resultFirst) => {
        const childId = `b${n}`;
        const line = resultFirst
          ? JSON.stringify({ result: r, jsonrpc: '2.0', id: childId })
          : JSON.stringify({ jsonrpc: '2.0', id: childId, result: r });
        const msg = JSON.parse(line) as { result: Record<string, unknown> };
        const text = resultText(line, childId, msg);
        expect(text).toBe(JSON.stringify(r));
        expect(JSON.parse(completeAnswer(5, msg.result, info, text)!)).toEqual(
          JSON.parse(JSON.stringify(slowPath(5, r))),
        );
      }),
    );
  });

  it('keeps the child own escapes (the answer reads the same)', () => {
    const line =
      '{"result":{"content":[{"type":"text","text":"caf\\u00e9 \\u2028"}]},"jsonrpc":"2.0","id":"b3"}';
    const msg = JSON.parse(line) as { result: Record<string, unknown> };
    const text = resultText(line, 'b3', msg)!;
    expect(text).toBe('{"content":[{"type":"text","text":"caf\\u00e9 \\u2028"}]}');
    expect(JSON.parse(completeAnswer(1, msg.result, info, text)!)).toEqual(slowPath(1, msg.result));
  });

  it('declines every other layout: the answer then serialises the parsed result', () => {
    const r = { content: [] };
    const cases: Array<[string, string]> = [
      // whitespace between members (Python's json.dumps)
      ['b1', '{"jsonrpc": "2.0", "id": "b1", "result": {"content": []}}'],
      ['b1', '{"result": {"content":[]},"jsonrpc":"2.0","id":"b1"}'],
      // another id (the text must be this request's answer)
      ['b1', JSON.stringify({ result: r, jsonrpc: '2.0', id: 'b12' })],
      // a member beyond the three
      ['b1', JSON.stringify({ result: r, extra: 1, jsonrpc: '2.0', id: 'b1' })],
      ['b1', JSON.stringify({ jsonrpc: '2.0', id: 'b1', result: r, extra: 1 })],
      // an empty result (nothing to save)
      ['b1', JSON.stringify({ result: {}, jsonrpc: '2.0', id: 'b1' })],
      // members in another order
      ['b1', JSON.stringify({ id: 'b1', jsonrpc: '2.0', result: r })],
    ];
    for (const [id, line] of cases) {
      const msg = JSON.parse(line) as { result: Record<string, unknown> };
      expect(resultText(line, id, msg), line).toBeUndefined();
    }
    const error = { jsonrpc: '2.0', id: 'b1', error: { code: 1, message: 'x' } };
    expect(resultText(JSON.stringify(error), 'b1', error)).toBeUndefined();
  });

  it('takes a numeric id as the request had it', () => {
    const line = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { a: 1 } });
    expect(resultText(line, 7, JSON.parse(line) as Record<string, unknown>)).toBe('{"a":1}');
    expect(resultText(line, '7', JSON.parse(line) as Record<string, unknown>)).toBeUndefined();
  });

  it('a repeated result key reads as its parse does (the last one)', () => {
    const line = '{"result":{"a":1},"result":{"b":2},"jsonrpc":"2.0","id":"b1"}';
    const msg = JSON.parse(line) as { result: Record<string, unknown> };
    const text = resultText(line, 'b1', msg);
    const answer = JSON.parse(completeAnswer(1, msg.result, info, text)!) as { result: unknown };
    expect(answer).toEqual(slowPath(1, { b: 2 }));
  });
});
