/** Log levels, lowest first. `silent` logs nothing. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields attached to a log line. Never put tokens or secrets here. */
export type LogFields = Record<string, unknown>;

/** The logger the bridge writes to. Each call is one structured event. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** True when `level` would be written (lets callers skip building fields). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * A logger that writes one JSON object per line (`{"time","level","msg",...}`)
 * to `write` (stderr by default), dropping events below `level`.
 */
export function createJsonLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => void process.stderr.write(line),
  now: () => number = Date.now,
): Logger {
  const min = rank[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
    if (rank[lvl] < min) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, msg, ...fields });
    } catch {
      line = JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, msg });
    }
    write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (lvl) => rank[lvl] >= min,
  };
}
