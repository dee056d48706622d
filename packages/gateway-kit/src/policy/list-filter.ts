import { StringDecoder } from 'node:string_decoder';
import { lfLineEnds } from '@mcp-gateway/internal/sse-reader';

/** Most bytes of one answer (a JSON body, or one event of a stream) held to rewrite it. */
export const MAX_FILTERED_BYTES = 8 * 1024 * 1024;

/** Rewrites the `result` of one JSON-RPC response. */
export type ResultRewrite = (result: unknown) => unknown;

/** Every response whose result has a `tools` list: a stream's events replayed without their requests at hand. */
export const ANY_TOOLS_RESULT = 'any tools result';

const hasTools = (result: unknown) =>
  typeof result === 'object' && result !== null && Array.isArray((result as { tools?: unknown }).tools);

/**
 * A backend's answer with the results of the requests `ids` rewritten
 * (`tools/list` results without hidden tools), whether the answer is one
 * JSON body (an object or a batch array) or an event stream: each event that
 * carries one of those responses is re-serialised, every other byte passes
 * unchanged. With {@link ANY_TOOLS_RESULT}, every response with a `tools`
 * list is rewritten (a `GET` stream, where `Last-Event-ID` replays earlier
 * answers). An answer too large to read fails rather than pass unfiltered.
 */
export function rewriteResults(
  res: Response,
  ids: ReadonlySet<unknown> | typeof ANY_TOOLS_RESULT,
  rewrite: ResultRewrite,
): Response {
  const type = res.headers.get('content-type') ?? '';
  const mode = type.includes('text/event-stream') ? 'sse' : type.includes('json') ? 'json' : undefined;
  if (!res.body || !mode) return res;
  const any = ids === ANY_TOOLS_RESULT;
  const pending = new Set(any ? [] : ids);
  const decoder = new StringDecoder('utf8');
  const encoder = new TextEncoder();
  // A stream's text with LF line ends only (CRLF and bare CR too, a CRLF split between chunks included).
  const lf = mode === 'sse' ? lfLineEnds() : (t: string) => t;
  let text = '';
  const rewriteMessage = (m: unknown): unknown => {
    if (typeof m !== 'object' || m === null || !('result' in m)) return m;
    const id = (m as { id?: unknown }).id;
    if (any ? !hasTools(m.result) : !pending.delete(id)) return m;
    return { ...m, result: rewrite(m.result) };
  };
  const rewriteJson = (json: string): string | undefined => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return undefined;
    }
    const out = Array.isArray(parsed) ? parsed.map(rewriteMessage) : rewriteMessage(parsed);
    return JSON.stringify(out);
  };
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        text += lf(decoder.write(chunk));
        if (mode === 'sse') {
          const out = events(false);
          if (out) controller.enqueue(encoder.encode(out));
        }
        if (text.length > MAX_FILTERED_BYTES) throw new Error('answer too large to filter');
      },
      flush(controller) {
        text += lf(decoder.end());
        const out = mode === 'json' ? (rewriteJson(text) ?? text) : events(true);
        if (out) controller.enqueue(encoder.encode(out));
      },
    }),
  );
  /** The complete events read so far, rewritten where they answer a watched request. */
  function events(final: boolean): string {
    let out = '';
    for (;;) {
      const at = text.indexOf('\n\n');
      if (at === -1) break;
      out += event(text.slice(0, at)) + '\n\n';
      text = text.slice(at + 2);
    }
    if (final && text) {
      out += event(text);
      text = '';
    }
    return out;
  }
  function event(block: string): string {
    if ((!any && pending.size === 0) || !block.includes('data:')) return block;
    const lines = block.split('\n');
    const data = lines
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
    const rewritten = rewriteJson(data.join('\n'));
    if (rewritten === undefined) return block;
    return [...lines.filter((l) => !l.startsWith('data:')), `data: ${rewritten}`].join('\n');
  }
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return new Response(body, { status: res.status, statusText: res.statusText, headers });
}

/**
 * A backend's answer to the forwarded part of a batch, with the JSON-RPC
 * error responses of the refused part added: to a JSON answer's array, as
 * events ahead of a stream, or as the whole answer when the backend had
 * nothing to say (`202`, only notifications were forwarded).
 */
export async function withRefusals(res: Response, refused: readonly object[]): Promise<Response> {
  if (res.status === 202 || res.status === 204 || !res.body) {
    await res.body?.cancel();
    return Response.json(refused, { headers: { 'cache-control': 'no-store' } });
  }
  const type = res.headers.get('content-type') ?? '';
  if (res.status !== 200) return res;
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  if (type.includes('json')) {
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return new Response(text, { status: res.status, headers });
    }
    const all = [...(Array.isArray(parsed) ? parsed : [parsed]), ...refused];
    return new Response(JSON.stringify(all), { status: res.status, headers });
  }
  if (!type.includes('text/event-stream')) return res;
  const first = new TextEncoder().encode(
    refused.map((r) => `event: message\ndata: ${JSON.stringify(r)}\n\n`).join(''),
  );
  const reader = res.body.getReader();
  let sentRefusals = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentRefusals) {
        sentRefusals = true;
        controller.enqueue(first);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: res.status, headers });
}
