import { jsonLineLogger, type Logger, type LogLevel } from '@mcp-gateway/internal/log';

export { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from '@mcp-gateway/internal/log';

/**
 * A logger that writes one JSON object per line (`{"time","level","msg",...}`)
 * to `write` (stderr by default), dropping events below `level`.
 */
export function createJsonLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => void process.stderr.write(line),
  now: () => number = Date.now,
): Logger {
  return jsonLineLogger({ level, write, now });
}
