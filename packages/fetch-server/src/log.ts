import { jsonLineLogger, type Logger } from '@mcp-gateway/internal/log';

export { silentLogger, type LogFields, type Logger } from '@mcp-gateway/internal/log';

/**
 * Writes `{"time","level","msg",...fields}` lines of level `info` and above to `write` (stderr by
 * default, so stdio mode stays clean).
 */
export function jsonLogger(
  write: (line: string) => void = (line) => void process.stderr.write(line),
  now: () => number = Date.now,
): Logger {
  return jsonLineLogger({ level: 'info', write, now });
}

/** Origin and path of a URL, without query or fragment (they may carry secrets). */
export function loggableUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
