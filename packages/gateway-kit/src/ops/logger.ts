import { pino, type DestinationStream, type Logger } from 'pino';

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

/** The gateway's structured logger (JSON lines on stdout unless a destination is given). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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

export type { Logger };

/** A logger writing to stderr (CLI commands keep stdout for their output). */
export function createStderrLogger(level: string): Logger {
  return createLogger(level, pino.destination(2));
}
