// The `result` of a JSON-RPC answer as its sender wrote it, so a relay need not serialise it again
// (inlined into each package that imports it). Web-standard only.

/**
 * The text of `msg.result` inside `text` (`msg` is `text` parsed), the answer to request `id`;
 * `undefined` unless `text` is laid out as the MCP SDKs write answers, with no whitespace:
 * `{"result":R,"jsonrpc":"2.0","id":<id>}` or `{"jsonrpc":"2.0","id":<id>,"result":R}`, `msg`
 * having just these three members and R a non-empty object. Since `text` parsed, R is then the
 * result's text, a slice of it (a sender that repeats the `result` key gives a text that reads
 * as its parse does, the last one counting).
 */
export function resultText(
  text: string,
  id: string | number,
  msg: Readonly<Record<string, unknown>>,
): string | undefined {
  const result = msg.result;
  if (typeof result !== 'object' || result === null || msg.jsonrpc !== '2.0') return undefined;
  if (memberCount(msg) !== 3 || memberCount(result) === 0) return undefined;
  const idText = JSON.stringify(id);
  const tail = `,"jsonrpc":"2.0","id":${idText}}`;
  const head = `{"jsonrpc":"2.0","id":${idText},"result":`;
  let r: string | undefined;
  if (text.startsWith('{"result":') && text.endsWith(tail)) r = text.slice(10, text.length - tail.length);
  else if (text.startsWith(head) && text.endsWith('}')) r = text.slice(head.length, -1);
  return r !== undefined && r.startsWith('{') && r.endsWith('}') ? r : undefined;
}

/** How many own members `o` has (counted, no array of keys made). */
function memberCount(o: object): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n++;
  return n;
}
