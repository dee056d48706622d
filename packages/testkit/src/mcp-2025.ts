/**
 * MCP 2025 sessions as a raw client opens them, for tests that speak the
 * protocol by hand: `initialize`, then `notifications/initialized`, then
 * requests that carry `Mcp-Session-Id` and `MCP-Protocol-Version`.
 */

/** Headers of a raw 2025 POST with the bearer `token`, before a session exists. */
const postHeaders = (token: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
});

/**
 * A raw 2025 `initialize` asking for `version` at `url` with the bearer `token`: the response as
 * the server sent it (not read; no `notifications/initialized` follows).
 */
export function rawInitialize(url: string, token: string, version: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: postHeaders(token),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
}

/**
 * Opens a raw 2025 session of `version` (e.g. 2025-03-26, the revision with
 * JSON-RPC batches) at `url` with the bearer `token`: `initialize`, then
 * `notifications/initialized`. Returns the headers of the session's requests.
 * Throws when `initialize` does not answer 200 with a session id, or the
 * notification is not accepted with 202.
 */
export async function rawSession(
  url: string,
  token: string,
  version: string,
): Promise<Record<string, string>> {
  const headers = postHeaders(token);
  const init = await rawInitialize(url, token, version);
  await init.text();
  const sessionId = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !sessionId) throw new Error(`initialize answered ${init.status}`);
  const session = { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': version };
  const ack = await fetch(url, {
    method: 'POST',
    headers: session,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await ack.text();
  if (ack.status !== 202) throw new Error(`notifications/initialized answered ${ack.status}`);
  return session;
}
