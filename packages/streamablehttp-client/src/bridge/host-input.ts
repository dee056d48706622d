/**
 * What the stdio host sends: one JSON-RPC message (or batch) per line.
 * Unparsable lines and invalid messages are answered here (JSON-RPC 2.0 §5.1
 * `-32700` and `-32600`); valid messages go on, in order.
 */
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JSONRPC_ERRORS } from '../errors.js';
import type { Logger } from '../log.js';

/** A JSON-RPC error answer to the host, as one line. */
const errorLine = (id: string | number | null, code: number, message: string) =>
  JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }) + '\n';

/** The `-32700` answer (id `null`) to a line that cannot be read, as one line. */
export const parseErrorLine = (message = 'Parse error') =>
  errorLine(null, JSONRPC_ERRORS.parseError, message);

/**
 * Reads one line from the host: each valid message goes to `message`, each
 * error answer (a line, with its newline) to `write`. Blank lines are ignored.
 */
export function readHostLine(
  line: string,
  message: (m: JSONRPCMessage) => void,
  write: (line: string) => void,
  log: Logger,
): void {
  if (!line.trim()) return;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    write(parseErrorLine());
    return;
  }
  for (const item of Array.isArray(json) ? json : [json]) {
    const parsed = JSONRPCMessageSchema.safeParse(item);
    if (!parsed.success) {
      const id = (item as { id?: unknown } | null)?.id;
      const validId = typeof id === 'string' || typeof id === 'number' ? id : null;
      log.warn('invalid JSON-RPC message from host', { id: validId });
      if (validId !== null || !(item && typeof item === 'object' && 'method' in item)) {
        write(errorLine(validId, JSONRPC_ERRORS.invalidRequest, 'Invalid Request'));
      }
      continue;
    }
    message(parsed.data);
  }
}
