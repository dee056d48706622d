// One capped body reader for the web-standard code of every package (inlined into each at build
// time). Web-standard only.

/** A body to read: a web `Request` or `Response`, or anything with their `headers` and `body`. */
export interface BodySource {
  readonly headers: Pick<Headers, 'get'>;
  readonly body: ReadableStream<Uint8Array> | null;
}

/**
 * Reads a body whole, at most `limit` bytes. A declared `Content-Length` over the limit is refused
 * before any byte is read; a stream that grows past it is cancelled. Either way the error
 * `tooLarge()` makes is thrown; errors of the stream itself propagate as they are. Resolves
 * `undefined` when there is no body at all.
 */
export async function readCappedBody(
  source: BodySource,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array | undefined> {
  const declared = source.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge();
  if (!source.body) return undefined;
  const reader = source.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
