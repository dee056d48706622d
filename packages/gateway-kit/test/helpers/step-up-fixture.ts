// The fixture of the upstream step-up tests: a page to fetch, a stub OAuth upstream (fetch-server
// behind its own authorization server) whose `tools/call` needs `write` and whose 401 challenges
// for `read`, a gateway on 127.0.0.1 with a per-user sign-in service `tracker` (and what else the
// test adds), users with gateway tokens for `tracker`, and raw 2026-07-28 calls of `fetch`.
import { listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll } from 'vitest';
import { issueToken } from '../../src/gateway/cli-token.js';
import type { CreateGatewayOptions, Gateway } from '../../src/gateway/create.js';
import { listeningGateway } from './listening.js';
import { mrtrAnswer, type MrtrAnswer } from './mrtr-answer.js';
import { startOAuthUpstream, type OAuthUpstream } from './oauth-upstream.js';

/** The gateway's issuer in these tests. */
export const STEP_UP_ISSUER = 'http://127.0.0.1:8080';

/** The account page's Connect link of `service`. */
export const connectUrl = (service: string) =>
  `${STEP_UP_ISSUER}/account/upstream/connect?service=${service}`;

/** `tools/call` needs `write`; anything else nothing beyond a valid token. */
export const needsWrite = (body: unknown) =>
  (body as { method?: string }).method === 'tools/call' ? 'write' : undefined;

/** What a test of the fixture uses; filled in `beforeAll`. */
export interface StepUpFixture<U extends string> {
  gw: Gateway;
  /** The gateway's URL. */
  url: string;
  up: OAuthUpstream;
  page: Listening;
  /** Each user's gateway token for `tracker`. */
  tokens: Record<U, string>;
  /** The `fetch` call of the page. */
  fetchCall(): { name: string; arguments: { url: string } };
  /** A raw 2026-07-28 `tools/call` of `user` to `service` (default `tracker`), URL-mode elicitation declared. */
  post2026(user: U, params: Record<string, unknown>, id?: number, service?: string): Promise<MrtrAnswer>;
  /** Runs `run` while a `tools/call` needs `scope` (else {@link needsWrite}). */
  needing<T>(scope: string, run: () => Promise<T>): Promise<T>;
}

/**
 * Registers the fixture's `beforeAll`/`afterAll`: `name` names the upstream, `pageText` is the
 * page's body, `services` the gateway's services besides `tracker`, `setup` prepares the upstream
 * before the gateway starts, `opts` goes to `createGateway`.
 */
export function stepUpFixture<U extends string>(opts: {
  name: string;
  users: readonly U[];
  pageText: string;
  services?: (up: OAuthUpstream) => Record<string, unknown>;
  setup?: (up: OAuthUpstream) => void;
  gateway?: CreateGatewayOptions;
}): StepUpFixture<U> {
  const f = {
    tokens: {} as Record<U, string>,
    fetchCall: () => ({ name: 'fetch', arguments: { url: `${f.page.url}/` } }),
    async post2026(user: U, params: Record<string, unknown>, id = 1, service = 'tracker') {
      const { body, headers } = request2026('tools/call', params, {
        capabilities: { elicitation: { url: {} } },
        id,
      });
      const token =
        service === 'tracker' ? f.tokens[user] : (await issueToken(f.gw, user, service)).access_token;
      const res = await fetch(`${f.url}/${service}/mcp`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${token}` },
        body,
      });
      return mrtrAnswer(res);
    },
    async needing<T>(scope: string, run: () => Promise<T>): Promise<T> {
      f.up.requiredScope = (body) =>
        (body as { method?: string }).method === 'tools/call' ? scope : undefined;
      try {
        return await run();
      } finally {
        f.up.requiredScope = needsWrite;
      }
    },
  } as StepUpFixture<U>;
  beforeAll(async () => {
    f.page = await listen(() => new Response(opts.pageText, { headers: { 'content-type': 'text/plain' } }));
    f.up = await startOAuthUpstream(opts.name);
    f.up.scopesSupported = ['read', 'write', 'admin'];
    f.up.challengeScope = 'read';
    f.up.requiredScope = needsWrite;
    opts.setup?.(f.up);
    ({ gw: f.gw, url: f.url } = await listeningGateway(
      {
        issuer: STEP_UP_ISSUER,
        services: {
          tracker: { type: 'http', url: f.up.resource, credentials: { type: 'oauth' } },
          ...opts.services?.(f.up),
        },
      },
      {},
      opts.gateway ?? {},
    ));
    for (const user of opts.users) {
      await f.gw.users.put(user, `${user}-password-1`);
      f.tokens[user] = (await issueToken(f.gw, user, 'tracker')).access_token;
    }
  });
  afterAll(async () => {
    await f.up?.close();
    await f.page?.close();
  });
  return f;
}
