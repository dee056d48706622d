import { randomUUID } from 'node:crypto';
import { GatewayError, JsonRpcCode } from '../errors.js';
import type { UpstreamSignInRequired } from './sign-in.js';

/**
 * The answer to an MCP request that needs the user's upstream account first:
 * the URL-mode elicitation error of MCP 2025-11-25 (`-32042`,
 * `URLElicitationRequiredError`), whose `data.elicitations` carries the
 * gateway page where the user connects the upstream. A JSON-RPC request gets
 * it as its response (HTTP 200, its own id), so clients surface the URL;
 * anything else (a notification, a GET stream) gets it with HTTP 403.
 */
export function signInRequired(err: UpstreamSignInRequired, body: string | undefined): Response {
  const data = {
    elicitations: [
      {
        mode: 'url',
        elicitationId: randomUUID(),
        url: err.connectUrl,
        message: `Connect your account at service "${err.service}" to use it through this gateway.`,
      },
    ],
  };
  const id = requestId(body);
  const refusal = new GatewayError(
    id === undefined ? 403 : 200,
    JsonRpcCode.UrlElicitationRequired,
    err.message,
    {},
    data,
  );
  return refusal.toResponse(id ?? null);
}

/** The id of the JSON-RPC request in `body`, or `undefined` (not a request, or not JSON). */
function requestId(body: string | undefined): string | number | undefined {
  if (body === undefined) return undefined;
  try {
    const msg = JSON.parse(body) as { id?: unknown; method?: unknown };
    const ok = typeof msg.method === 'string' && (typeof msg.id === 'string' || typeof msg.id === 'number');
    return ok ? (msg.id as string | number) : undefined;
  } catch {
    return undefined;
  }
}
