import { jsonLineLogger, type LogFields, type Logger, type LogLevel } from '@mcp-gateway/internal/log';

export { silentLogger, type Logger, type LogLevel } from '@mcp-gateway/internal/log';

const SECRET_KEY = /token|secret|authorization|verifier|password|cookie/i;

/**
 * A `code` field may be an OAuth authorization code (a string): redacted. A
 * number (a JSON-RPC or HTTP error code) is logged; our own string error codes
 * are logged as `errorCode`.
 */
const isSecret = (key: string, value: unknown): boolean =>
  value !== undefined && (SECRET_KEY.test(key) || (/^code$/i.test(key) && typeof value !== 'number'));

/** Replaces the values of secret-looking keys, recursively, so logs never carry credentials. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecret(k, v) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

/**
 * Logger writing JSON lines (`{"t","level","msg",...fields}`) to `write` (stderr by default: stdout
 * belongs to JSON-RPC in bridge mode). Secret-looking fields are redacted.
 */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => void process.stderr.write(line),
): Logger {
  return jsonLineLogger({ level, write, timeKey: 't', fields: (fields) => redact(fields) as LogFields });
}
