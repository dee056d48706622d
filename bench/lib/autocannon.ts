// The part of autocannon's result the suites read, and the loader: autocannon
// ships CommonJS without types, so every suite loads it the same way from here.
import { createRequire } from 'node:module';
import { MCP_2026, request2026 } from '@mcp-gateway/testkit';

/** Fields of an autocannon run that the benchmark tables print. */
export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

/** Runs one bounded load against a loopback URL. */
export const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: Record<string, unknown>,
) => Promise<AutocannonResult>;

/** Median of a non-empty list. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The `initialize` request body every suite opens its sessions with. */
export const INITIALIZE_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
});

/** `Accept` of every MCP POST the suites send. */
export const MCP_ACCEPT = 'application/json, text/event-stream';

/**
 * A body builder that splices each JSON-RPC id into the message serialised once: per request it
 * costs the load generator the same little for every message shape, so a suite comparing two
 * shapes measures the server rather than the cost of building the larger one.
 */
export function withIds(message: Record<string, unknown>): (id: number | string) => string {
  const marker = 'bench-id-placeholder';
  const text = JSON.stringify({ ...message, id: marker });
  const at = text.indexOf(`"${marker}"`);
  const head = text.slice(0, at);
  const tail = text.slice(at + marker.length + 2);
  return (id) => head + JSON.stringify(id) + tail;
}

/** The echo `tools/call` every suite measures, with JSON-RPC id `id`. */
export const echoCall: (id: number | string) => string = withIds({
  jsonrpc: '2.0',
  id: 0,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'hello bench' } },
});

/** autocannon POST load of `body(id)` with a JSON-RPC id of its own per request. */
function postLoad(
  url: string,
  headers: Record<string, string>,
  connections: number,
  duration: number,
  body: (id: number) => string,
): Promise<AutocannonResult> {
  let id = 1;
  return autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body(id++) }) }],
  });
}

/**
 * autocannon `tools/call` (echo) load on one session: `connections` at once for
 * `duration` seconds, each request with a JSON-RPC id of its own.
 */
export function toolsCallLoad(
  url: string,
  headers: Record<string, string>,
  connections: number,
  duration: number,
): Promise<AutocannonResult> {
  const all = {
    'content-type': 'application/json',
    accept: MCP_ACCEPT,
    'mcp-protocol-version': '2025-06-18',
    ...headers,
  };
  return postLoad(url, all, connections, duration, echoCall);
}

/** One echo `tools/call`, checked: load runs must measure real answers, not errors. */
export async function checkEchoCall(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: MCP_ACCEPT,
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    body: echoCall('check'),
  });
  const text = await res.text();
  if (!res.ok || !text.includes('"text":"hello bench"') || text.includes('"error"')) {
    throw new Error(`tools/call answered ${res.status}: ${text.slice(0, 200)}`);
  }
}

/** The 2026-07-28 revision the stateless suites speak. */
export const MODERN_VERSION = MCP_2026;

const ECHO_2026 = { name: 'echo', arguments: { text: 'hello bench' } };

/** The echo `tools/call` at 2026-07-28: the per-request `_meta` envelope instead of a session. */
export const echoCall2026: (id: number | string) => string = withIds(
  request2026('tools/call', ECHO_2026).message,
);

/** Headers every 2026-07-28 echo `tools/call` carries (SEP-2243 mirrors of the body). */
export const MODERN_CALL_HEADERS: Record<string, string> = request2026('tools/call', ECHO_2026, {
  accept: MCP_ACCEPT,
}).headers;

/** autocannon 2026-07-28 `tools/call` (echo) load: no session, each request stands alone. */
export function toolsCallLoad2026(
  url: string,
  headers: Record<string, string>,
  connections: number,
  duration: number,
): Promise<AutocannonResult> {
  return postLoad(url, { ...MODERN_CALL_HEADERS, ...headers }, connections, duration, echoCall2026);
}

/** One checked 2026-07-28 echo call: 200, the echo, resultType complete, and no session header. */
export async function checkEchoCall2026(url: string, auth: Record<string, string>): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MODERN_CALL_HEADERS, ...auth },
    body: echoCall2026('check'),
  });
  const text = await res.text();
  if (res.headers.get('mcp-session-id') !== null) throw new Error('a 2026 call was given a session');
  if (
    res.status !== 200 ||
    !text.includes('"text":"hello bench"') ||
    !text.includes('"resultType":"complete"')
  )
    throw new Error(`2026 tools/call at ${url} answered ${res.status}: ${text.slice(0, 200)}`);
}
