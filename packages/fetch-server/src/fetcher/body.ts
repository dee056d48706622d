import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { FetchError } from '../errors.js';

/** The `Content-Encoding` values we decode; anything else is refused. */
function decoderFor(encoding: string): Transform | undefined | null {
  switch (encoding) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return null;
  }
}

/**
 * Reads a response body into memory, decompressing it, and stops as soon as
 * more than `maxBytes` have arrived (counted after decompression, so a
 * compression bomb is cut off too). A declared `Content-Length` over the cap
 * is refused before any body byte is read. With `overflow: 'truncate'` the
 * first `maxBytes` bytes are kept instead (robots.txt: parse what fits).
 *
 * @throws {FetchError} `too_large` or `unsupported_content`
 */
export async function readBodyCapped(
  res: IncomingMessage,
  maxBytes: number,
  url: URL,
  overflow: 'error' | 'truncate' = 'error',
): Promise<Buffer> {
  const tooLarge = () =>
    new FetchError(
      'too_large',
      `Response from ${url.origin} is larger than the ${maxBytes}-byte limit; not read further`,
    );
  const encoding = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const decoder = decoderFor(encoding);
  if (decoder === null) {
    res.destroy();
    throw new FetchError(
      'unsupported_content',
      `Unsupported Content-Encoding "${encoding}" from ${url.origin}`,
    );
  }
  const declared = Number(res.headers['content-length']);
  if (overflow === 'error' && !decoder && Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw tooLarge();
  }
  const source: Readable = decoder ? res.pipe(decoder) : res;
  if (decoder) res.once('error', (err) => decoder.destroy(err));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      if (total + buf.length > maxBytes) {
        if (overflow === 'error') throw tooLarge();
        chunks.push(buf.subarray(0, maxBytes - total));
        total = maxBytes;
        break;
      }
      total += buf.length;
      chunks.push(buf);
    }
  } catch (err) {
    if (err instanceof FetchError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (decoder && (e.code?.startsWith('Z_') || e.code?.startsWith('ERR__'))) {
      throw new FetchError('unsupported_content', `Could not decode ${encoding} body from ${url.origin}`, {
        cause: err,
      });
    }
    throw err;
  } finally {
    res.destroy();
    decoder?.destroy();
  }
  return Buffer.concat(chunks, total);
}
