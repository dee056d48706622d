// A fetch service's maxConcurrentFetchesPerUser counts one user's fetches across separate requests:
// the gateway names the user (identity.sub) as the fetch server's caller. Without that, every
// 2026-07-28 request would be a caller of its own and the bound would never be reached.
import type { ServerResponse } from 'node:http';
import { listenNode } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';

const V2026 = '2026-07-28';
let gw: Gateway;
let base: string;
let target: Awaited<ReturnType<typeof listenNode>>;
const held: ServerResponse[] = [];
let arrived: (() => void) | undefined;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  target = await listenNode((req, res) => {
    if (req.url === '/article') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<html><head><title>A</title></head><body><article><h1>Heading</h1>${'<p>Some text.</p>'.repeat(50)}</article></body></html>`,
      );
      return;
    }
    held.push(res);
    arrived?.();
  });
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      web: {
        type: 'fetch',
        allowHosts: ['127.0.0.1'],
        ignoreRobotsTxt: true,
        maxConcurrentFetchesPerUser: 1,
      },
      // The worker's start alone takes longer than 1 ms: every conversion times out.
      hurried: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true, conversionTimeout: 0.001 },
    },
  }));
  for (const user of ['alice', 'bob']) {
    await gw.users.put(user, `${user}-password-123`);
    tokens[user] = (await issueToken(gw, user, 'web')).access_token;
    tokens[`${user}@hurried`] = (await issueToken(gw, user, 'hurried')).access_token;
  }
});

afterAll(async () => {
  for (const res of held.splice(0)) res.destroy();
  await target?.close();
});

/** Resolves when the target holds `n` requests. */
function holding(n: number): Promise<void> {
  if (held.length >= n) return Promise.resolve();
  return new Promise((resolve) => {
    arrived = () => {
      if (held.length >= n) resolve();
    };
  });
}

/** One 2026-07-28 `tools/call` of the fetch tool, as `user`; resolves to the tool's result. */
async function fetchAs(
  user: string,
  id: number,
  service = 'web',
  page = 'page',
): Promise<{ isError?: boolean; content: { text: string }[] }> {
  const res = await fetch(`${base}/${service}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tokens[service === 'web' ? user : `${user}@${service}`]}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': V2026,
      'mcp-method': 'tools/call',
      'mcp-name': 'fetch',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name: 'fetch',
        arguments: { url: `${target.url}/${page}` },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': V2026,
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1' },
        },
      },
    }),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  const json = text.startsWith('{') ? text : /^data: (.*)$/m.exec(text)![1]!;
  return (JSON.parse(json) as { result: { isError?: boolean; content: { text: string }[] } }).result;
}

describe('fetch service: maxConcurrentFetchesPerUser', () => {
  it("bounds one user's fetches across requests; another user still fetches", async () => {
    const first = fetchAs('alice', 1);
    await holding(1);
    const refused = await fetchAs('alice', 2);
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(
      /Too many fetches in progress for this caller \(at most 1 at once\)/,
    );
    expect(held).toHaveLength(1);

    const bobs = fetchAs('bob', 3);
    await holding(2);
    for (const res of held.splice(0)) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('released page');
    }
    for (const r of await Promise.all([first, bobs])) {
      expect(r.isError).toBeFalsy();
      expect(r.content[0]!.text).toContain('released page');
    }
    // The slot came back.
    const again = fetchAs('alice', 4);
    await holding(1);
    held.splice(0).forEach((res) => res.end('released page'));
    expect((await again).isError).toBeFalsy();
  });
});

describe('fetch service: conversionTimeout', () => {
  it("reaches the fetch server: a conversion past it is a timeout result; another service's converts", async () => {
    const hurried = await fetchAs('alice', 10, 'hurried', 'article');
    expect(hurried.isError).toBe(true);
    expect(hurried.content[0]!.text).toMatch(/took longer than 1 ms and was stopped/);
    const normal = await fetchAs('alice', 11, 'web', 'article');
    expect(normal.isError).toBeFalsy();
    expect(normal.content[0]!.text).toContain('Heading');
  });
});
