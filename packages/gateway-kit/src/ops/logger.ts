import type { Logger } from '@mcp-gateway/internal/log';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { PinoPretty } from 'pino-pretty';

/** Paths pino removes from every line: credentials never reach the logs. */
export const REDACT_PATHS = [
  'authorization',
  'token',
  'password',
  'secret',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.password',
  '*.secret',
  '*.client_secret',
  '*.code',
];

/** `json` or `pretty` for a `logging.format`: `auto` is pretty exactly when stdout is a terminal. */
export function resolveLogFormat(format: 'auto' | 'json' | 'pretty', isTty = Boolean(process.stdout.isTTY)) {
  return format === 'auto' ? (isTty ? 'pretty' : 'json') : format;
}

/**
 * Human-readable lines for a terminal (pino-pretty, synchronous, on stdout),
 * with the same redaction as the JSON lines.
 */
export function createPrettyLogger(
  level: string,
  destination: NodeJS.WritableStream = process.stdout,
): Logger {
  const pretty = PinoPretty({
    colorize: destination === process.stdout && Boolean(process.stdout.isTTY),
    sync: true,
    destination,
    ignore: 'pid,hostname,name',
    translateTime: 'SYS:HH:MM:ss',
  });
  return createLogger(level, pretty);
}

/**
 * The repo's one {@link Logger} `(msg, fields)` over a pino logger: what the gateway writes with,
 * and what it hands to the bridge, fetch-server and the authorization server as it is.
 */
export function fromPino(log: PinoLogger): Logger {
  return {
    debug: (msg, fields) => log.debug(fields ?? {}, msg),
    info: (msg, fields) => log.info(fields ?? {}, msg),
    warn: (msg, fields) => log.warn(fields ?? {}, msg),
    error: (msg, fields) => log.error(fields ?? {}, msg),
    enabled: (level) => log.isLevelEnabled(level),
    child: (fields) => fromPino(log.child(fields)),
  };
}

/** The gateway's structured logger (pino JSON lines on stdout unless a destination is given). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return fromPino(createPino(level, destination));
}

function createPino(level: string, destination?: DestinationStream): PinoLogger {
  return pino(
    {
      level,
      base: { name: 'mcp-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger, LogFields } from '@mcp-gateway/internal/log';

/** A logger writing to stderr (CLI commands keep stdout for their output). */
export function createStderrLogger(level: string): Logger {
  return createLogger(level, pino.destination(2));
}
