/** Fields of a structured log line. Never put tokens, cookies or full query strings here. */
export type LogFields = Record<string, string | number | boolean | undefined | null>;

/** A structured logger: one JSON object per line. */
export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Writes `{"time","level","msg",...fields}` lines to `write` (stderr by default, so stdio mode stays clean). */
export function jsonLogger(
  write: (line: string) => void = (line) => void process.stderr.write(line),
  now: () => number = Date.now,
): Logger {
  const emit = (level: string, msg: string, fields: LogFields = {}) =>
    write(`${JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...fields })}\n`);
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Origin and path of a URL, without query or fragment (they may carry secrets). */
export function loggableUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
