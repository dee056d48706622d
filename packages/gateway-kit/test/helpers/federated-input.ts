// Shared setup of the federated input-request tests (federated-elicitation.test.ts and
// federated-elicitation-legacy.test.ts): a gateway whose endpoint `/mcp` federates the built-in
// fetch service with the members under test, alice's token for it, SDK 1.x clients of it, and
// the elicitation answers those tests give.
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { issueToken } from '../../src/gateway/cli-token.js';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import type { Gateway } from '../../src/gateway/create.js';
import { listeningGateway } from './listening.js';
import { sdk1Client } from './mcp-clients.js';

type Services = NonNullable<GatewayConfigInput['services']>;
type Endpoint = NonNullable<GatewayConfigInput['federated']>[number];

/** A federated endpoint under test, and clients of it as alice. */
export interface FederatedInput {
  gw: Gateway;
  /** The gateway's base URL (the endpoint is `${url}/mcp`). */
  url: string;
  /** Alice's access token for the endpoint. */
  token: string;
  /** An SDK 1.x client (a 2025-11-25 session) declaring `capabilities`, its handlers installed by `setup`. */
  sdk1(capabilities: Record<string, object>, setup?: (c: ClientV1) => void): Promise<ClientV1>;
  /** Runs `use` with a client as `sdk1` makes it, and closes the client after, whatever `use` did. */
  withSdk1(
    capabilities: Record<string, object>,
    setup: ((c: ClientV1) => void) | undefined,
    use: (client: ClientV1) => Promise<void>,
  ): Promise<void>;
}

/**
 * A listening gateway with the endpoint `/mcp` over the built-in fetch service
 * and `members` (in that order), configured further by `endpoint`, and the local
 * user alice with a token for it. Call it in `beforeAll`; the gateway is closed
 * after the file's tests.
 */
export async function federatedInput(
  members: Services,
  endpoint: Omit<Endpoint, 'path' | 'services'> = {},
): Promise<FederatedInput> {
  const { gw, url } = await listeningGateway({
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      ...members,
    },
    federated: [{ ...endpoint, path: '/mcp', services: ['fetch', ...Object.keys(members)] }],
  });
  await gw.users.put('alice', 'alice-password-1');
  const token = (await issueToken(gw, 'alice', '/mcp')).access_token;
  const sdk1 = (capabilities: Record<string, object>, setup?: (c: ClientV1) => void) =>
    sdk1Client(`${url}/mcp`, token, capabilities, setup);
  return {
    gw,
    url,
    token,
    sdk1,
    async withSdk1(capabilities, setup, use) {
      const client = await sdk1(capabilities, setup);
      try {
        await use(client);
      } finally {
        await client.close();
      }
    },
  };
}

/** The text of a tool result's first content block. */
export const textOf = (r: object) => (r as { content: Array<{ text: string }> }).content[0]!.text;

/** The SDK 1.x client handlers of these tests that answer `elicitation/create`. */
export const elicit = {
  /** Accepts the name Ada, and records each message in `asked`. */
  acceptAda:
    (asked: string[] = []) =>
    (c: ClientV1) =>
      c.setRequestHandler(ElicitRequestSchema, (req) => {
        asked.push(String(req.params.message));
        return { action: 'accept', content: { name: 'Ada' } };
      }),
  /** Accepts Ada for a message that starts with `First`, Lovelace for any other. */
  acceptFirstAndLast: (c: ClientV1) =>
    c.setRequestHandler(ElicitRequestSchema, (req) => ({
      action: 'accept',
      content: { name: String(req.params.message).startsWith('First') ? 'Ada' : 'Lovelace' },
    })),
  /** Declines. */
  decline: (c: ClientV1) => c.setRequestHandler(ElicitRequestSchema, () => ({ action: 'decline' })),
};
