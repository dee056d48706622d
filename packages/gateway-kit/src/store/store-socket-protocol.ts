/**
 * The line protocol of the embedded store's socket: one JSON object per line each way.
 * A request names a {@link Store} method and its arguments by field, so that `undefined`
 * (absent) stays apart from `null`; the answer carries the request's `i`.
 *
 * - request: `{ i, m, k?, v?, t?, x?, s? }` (key, value, TTL ms, expected value, set member)
 * - answer: `{ i, r? }` (result; absent for `undefined`) or `{ i, e }` (the error's message)
 */
import type { Socket } from 'node:net';
import { LineSplitter } from '@mcp-gateway/internal/line-splitter';
import { z } from 'zod';

/** At most this many bytes in one line either way (a stored value and its envelope). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

const key = z
  .string()
  .min(1)
  .max(64 * 1024);
const ttl = z
  .number()
  .int()
  .positive()
  .max(2 ** 47);
const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A request line, validated; each method with exactly the fields it takes. */
export const storeRequest = z.discriminatedUnion('m', [
  z.strictObject({ i: id, m: z.literal('get'), k: key }),
  z.strictObject({ i: id, m: z.literal('set'), k: key, v: z.unknown(), t: ttl.optional() }),
  z.strictObject({ i: id, m: z.literal('delete'), k: key }),
  z.strictObject({ i: id, m: z.literal('take'), k: key }),
  z.strictObject({ i: id, m: z.literal('increment'), k: key, t: ttl }),
  z.strictObject({ i: id, m: z.literal('compareAndSet'), k: key, x: z.unknown().optional(), v: z.unknown() }),
  z.strictObject({ i: id, m: z.literal('addToSet'), k: key, s: z.string() }),
  z.strictObject({ i: id, m: z.literal('removeFromSet'), k: key, s: z.string() }),
  z.strictObject({ i: id, m: z.literal('members'), k: key }),
  z.strictObject({ i: id, m: z.literal('setSize'), k: key }),
  z.strictObject({ i: id, m: z.literal('ping') }),
]);

export type StoreRequest = z.infer<typeof storeRequest>;

/** An answer line as the client reads it. */
export const storeAnswer = z.union([
  z.strictObject({ i: id, r: z.unknown().optional() }),
  z.strictObject({ i: id.nullable(), e: z.string() }),
]);

export type StoreAnswer = z.infer<typeof storeAnswer>;

/**
 * Frames `socket`'s bytes into lines of at most {@link MAX_LINE_BYTES}: `onLine` for each,
 * `onTooLong` as soon as one passes the limit (without reading the rest of it). Nothing is
 * reported once the socket is destroyed, so a reader that ends it stops there.
 */
export function readLines(socket: Socket, onLine: (line: string) => void, onTooLong: () => void): void {
  const live =
    <A extends unknown[]>(fn: (...a: A) => void) =>
    (...a: A) => {
      if (!socket.destroyed) fn(...a);
    };
  const lines = new LineSplitter(
    MAX_LINE_BYTES,
    live((line: Buffer) => onLine(line.toString('utf8'))),
    live(onTooLong),
  );
  socket.on('data', (chunk: Buffer) => {
    lines.push(chunk);
    if (lines.overflowing) live(onTooLong)();
  });
}

/** The socket beside an embedded database file. */
export const storeSocketPath = (databaseFile: string): string => `${databaseFile}.sock`;
