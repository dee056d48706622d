import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
