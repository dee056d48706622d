const NL = 0x0a;
const CR = 0x0d;

/**
 * Newline-delimited framing (a child's stdout and stderr, the embedded store's
 * socket): bytes in, one callback per complete line out. Lines longer than
 * `maxLineBytes` are dropped whole (reported through `onOverflow`) and framing
 * resumes at the next newline; {@link overflowing} tells a reader that would
 * rather stop at once. A trailing `\r` is removed; stray `\r` inside a line become
 * spaces, so a line can be framed as one SSE `data:` field as is.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private overflow = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: Buffer) => void,
    private readonly onOverflow: (bytes: number) => void,
  ) {}

  /** True while the line being read is already longer than `maxLineBytes` (its end not yet read). */
  get overflowing(): boolean {
    return this.overflow;
  }

  /** Feeds a chunk; calls `onLine` for every line it completes. */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) {
        if (start < chunk.length) this.keep(chunk.subarray(start));
        return;
      }
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.overflow) {
        this.onOverflow(this.partBytes + piece.length);
        this.reset();
        continue;
      }
      let line: Buffer;
      if (this.parts.length === 0) line = piece;
      else {
        if (this.partBytes + piece.length > this.maxLineBytes) {
          this.onOverflow(this.partBytes + piece.length);
          this.reset();
          continue;
        }
        this.parts.push(piece);
        line = Buffer.concat(this.parts, this.partBytes + piece.length);
        this.reset();
      }
      if (line.length > this.maxLineBytes) {
        this.onOverflow(line.length);
        continue;
      }
      this.emit(line);
    }
  }

  /** Emits a last line that was not newline-terminated (call at end of stream). */
  end(): void {
    if (this.overflow) this.onOverflow(this.partBytes);
    else if (this.partBytes > 0) this.emit(Buffer.concat(this.parts, this.partBytes));
    this.reset();
  }

  private keep(piece: Buffer): void {
    if (this.overflow) {
      this.partBytes += piece.length;
      return;
    }
    this.partBytes += piece.length;
    if (this.partBytes > this.maxLineBytes) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    // Copy: the chunk's memory may be reused by the stream.
    this.parts.push(Buffer.from(piece));
  }

  private reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.overflow = false;
  }

  private emit(line: Buffer): void {
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    if (end === 0) return;
    let out = end === line.length ? line : line.subarray(0, end);
    if (out.indexOf(CR) !== -1) {
      out = Buffer.from(out);
      for (let i = 0; i < out.length; i++) if (out[i] === CR) out[i] = 0x20;
    }
    this.onLine(out);
  }
}
