// Clients of the federated endpoint tests: an MCP SDK 1.x client with input capabilities, and a
// raw 2025 session of a chosen revision (e.g. 2025-03-26, the one with JSON-RPC batches).
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** An SDK 1.x client (a 2025-11-25 session) of `url` declaring `capabilities`, its handlers installed by `setup`. */
export async function sdk1Client(
  url: string,
  token: string,
  capabilities: Record<string, object>,
  setup: (c: ClientV1) => void = () => {},
): Promise<ClientV1> {
  const client = new ClientV1({ name: 'sdk1', version: '1' }, { capabilities });
  setup(client);
  await client.connect(
    new TransportV1(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

/**
 * Opens a raw 2025 session of `version` at `url` (`initialize`, then
 * `notifications/initialized`); returns the headers of its requests.
 */
export async function rawSession(
  url: string,
  token: string,
  version: string,
): Promise<Record<string, string>> {
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
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
