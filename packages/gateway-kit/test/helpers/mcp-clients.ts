// Clients of the federated endpoint tests: an MCP SDK 1.x client with input capabilities. (A raw
// 2025 session of a chosen revision is `rawSession` of @mcp-gateway/testkit.)
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
