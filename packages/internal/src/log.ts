// One Logger for every package, `(msg, fields)`, inlined into each at build time. A package takes
// any object of this shape (the gateway hands its own to the bridge, fetch-server and the
// authorization server unchanged). Web-standard only: the JSON-lines writer is told where to write.

/** Log levels, lowest first. `silent` logs nothing. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** A level a logger can be set to (`silent`: nothing). */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A level a line is written at. */
export type LineLevel = Exclude<LogLevel, 'silent'>;

/** Structured fields of one log line. Never put tokens, cookies, secrets or full query strings here. */
export type LogFields = Record<string, unknown>;

/** A structured logger: each call is one event, a message and its fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * True when `level` would be written, so a caller on a hot path can skip building fields.
   * Absent: every level may be written (see {@link logEnabled}).
   */
  enabled?(level: LineLevel): boolean;
  /**
   * A logger that adds `fields` to every line (e.g. `{ service }`). Absent: {@link childLogger}
   * wraps this one.
   */
  child?(fields: LogFields): Logger;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  enabled: () => false,
  child: () => silentLogger,
};

/** True when `log` would write `level` (a logger without `enabled` writes every level). */
export function logEnabled(log: Logger, level: LineLevel): boolean {
  return log.enabled ? log.enabled(level) : true;
}

/** A logger that adds `fields` to every line of `log`: its own `child` when it has one. */
export function childLogger(log: Logger, fields: LogFields): Logger {
  if (log.child) return log.child(fields);
  const merge = (more?: LogFields) => (more ? { ...fields, ...more } : fields);
  return {
    debug: (msg, more) => log.debug(msg, merge(more)),
    info: (msg, more) => log.info(msg, merge(more)),
    warn: (msg, more) => log.warn(msg, merge(more)),
    error: (msg, more) => log.error(msg, merge(more)),
    enabled: (level) => logEnabled(log, level),
    child: (next) => childLogger(log, merge(next)),
  };
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** How {@link jsonLineLogger} writes. */
export interface JsonLineOptions {
  /** Lines below this level are dropped (default `info`). */
  level?: LogLevel;
  /** Where each line (with its `\n`) goes. */
  write: (line: string) => void;
  /** The clock for `time` (default `Date.now`). */
  now?: () => number;
  /** Name of the timestamp field (default `time`). */
  timeKey?: string;
  /** Applied to the fields of each line before it is written (e.g. redaction). */
  fields?: (fields: LogFields) => LogFields;
}

/**
 * A logger writing one JSON object per line, `{"time","level","msg",...fields}`, dropping lines
 * below `level`. Fields that cannot be serialised (a cycle, a BigInt) are left out, never thrown.
 */
export function jsonLineLogger(options: JsonLineOptions): Logger {
  const { write, now = Date.now, timeKey = 'time', fields: shape } = options;
  const min = RANK[options.level ?? 'info'];
  const emit = (level: LineLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const head = { [timeKey]: new Date(now()).toISOString(), level, msg };
    let line: string;
    try {
      line = JSON.stringify({ ...head, ...(fields && shape ? shape(fields) : fields) });
    } catch {
      line = JSON.stringify(head);
    }
    write(`${line}\n`);
  };
  const log: Logger = {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    enabled: (level) => RANK[level] >= min,
    child: (fields) => childLogger({ ...log, child: undefined }, fields),
  };
  return log;
}
