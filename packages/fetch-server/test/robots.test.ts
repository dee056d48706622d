import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenNode, type Listening } from '@mcp-gateway/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { productToken } from '../src/index.js';
import { callFetch, testCore, textOf } from './helpers/core.js';

const open: Listening[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

/** A site whose /robots.txt is answered by `robots`; every other path is a small text page. */
async function siteWithRobots(robots: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits = { robots: 0, pages: [] as string[] };
  const l = await listenNode((req, res) => {
    if (req.url === '/robots.txt') {
      hits.robots++;
      return robots(req, res);
    }
    hits.pages.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`page ${req.url}`);
  });
  open.push(l);
  return Object.assign(l, { hits });
}

const robotsTxt = (body: string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(body);
};
const status = (code: number) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(code, { 'content-type': 'text/plain' });
  res.end('robots says ' + code);
};

function clock(start = Date.UTC(2026, 10, 22)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const withRobots = (extra: Parameters<typeof testCore>[0] = {}) =>
  testCore({ ignoreRobotsTxt: false, robotsTimeoutMs: 300, ...extra });

const RULES = `# test rules
User-agent: mcp-gateway-fetch
Disallow: /private
Allow: /private/open

User-agent: *
Disallow: /
`;

describe('rfc9309: robots.txt rules for our user agent', () => {
  it('a path disallowed for our product token is refused, with a message naming robots.txt', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    const result = await callFetch(withRobots(), { url: `${site.url}/private/page` });
    expect(result).toEqual({
      content: [
        {
          type: 'text',
          text: `Fetching ${site.url}/private/page is not allowed: ${site.url}/robots.txt disallows it for user agent "mcp-gateway-fetch". The user can open the page themselves.`,
        },
      ],
      isError: true,
    });
    expect(site.hits.pages).toEqual([]);
  });

  it('the longest match wins: an Allow inside a disallowed path is fetched', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    const result = await callFetch(withRobots(), { url: `${site.url}/private/open/doc` });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('page /private/open/doc');
  });

  it('paths not matched by our group are allowed even though * disallows everything', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    expect((await callFetch(withRobots(), { url: `${site.url}/public` })).isError).toBeFalsy();
  });

  it('a custom User-Agent is matched by its own product token', async () => {
    const site = await siteWithRobots(robotsTxt('User-agent: otherbot\nDisallow: /\n'));
    const result = await callFetch(withRobots({ userAgent: 'OtherBot/3.1 (+https://example.test)' }), {
      url: `${site.url}/x`,
    });
    expect(textOf(result)).toContain('disallows it for user agent "otherbot"');
    expect(productToken('OtherBot/3.1 (+https://example.test)')).toBe('otherbot');
  });

  it('--ignore-robots-txt skips the check and never requests robots.txt', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    const result = await callFetch(withRobots({ ignoreRobotsTxt: true }), {
      url: `${site.url}/private/page`,
    });
    expect(result.isError).toBeFalsy();
    expect(site.hits.robots).toBe(0);
  });
});

describe('rfc9309 §2.3.1: unavailable and unreachable robots.txt', () => {
  it('4xx (unavailable): everything is allowed', async () => {
    const site = await siteWithRobots(status(404));
    const result = await callFetch(withRobots(), { url: `${site.url}/anything` });
    expect(result.isError).toBeFalsy();
    expect(site.hits.robots).toBe(1);
  });

  it('5xx (unreachable): everything is disallowed', async () => {
    const site = await siteWithRobots(status(500));
    const result = await callFetch(withRobots(), { url: `${site.url}/anything` });
    expect(result).toEqual({
      content: [
        {
          type: 'text',
          text: `Fetching ${site.url}/anything is not allowed: ${site.url}/robots.txt answered HTTP 500, so robots.txt rules treat the whole site as disallowed. The user can open the page themselves.`,
        },
      ],
      isError: true,
    });
    expect(site.hits.pages).toEqual([]);
  });

  it('a connection dropped while fetching robots.txt (unreachable): disallowed', async () => {
    const site = await siteWithRobots((req) => req.socket.destroy());
    const result = await callFetch(withRobots(), { url: `${site.url}/anything` });
    expect(textOf(result)).toBe(
      `Fetching ${site.url}/anything is not allowed: ${site.url}/robots.txt could not be reached, so robots.txt rules treat the whole site as disallowed. The user can open the page themselves.`,
    );
    expect(site.hits.pages).toEqual([]);
  });

  it('a robots.txt that never answers times out and disallows', async () => {
    const site = await siteWithRobots(() => {
      // hold the request open
    });
    const result = await callFetch(withRobots({ robotsTimeoutMs: 200 }), { url: `${site.url}/anything` });
    expect(textOf(result)).toBe(
      `Fetching ${site.url}/anything is not allowed: ${site.url}/robots.txt timed out, so robots.txt rules treat the whole site as disallowed. The user can open the page themselves.`,
    );
  });

  it('redirects for robots.txt are followed (same SSRF-safe fetcher)', async () => {
    const site = await siteWithRobots((req, res) => {
      res.writeHead(301, { location: '/real-robots.txt' });
      res.end();
    });
    // /real-robots.txt is served by the generic page handler: "page /real-robots.txt" has no rules.
    expect((await callFetch(withRobots(), { url: `${site.url}/x` })).isError).toBeFalsy();
    expect(site.hits.pages).toEqual(['/real-robots.txt', '/x']);
  });
});

describe('rfc9309 §2.4: caching per origin', () => {
  it('robots.txt is fetched once per origin and reused', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    const core = withRobots();
    await callFetch(core, { url: `${site.url}/a` });
    await callFetch(core, { url: `${site.url}/b` });
    await Promise.all([callFetch(core, { url: `${site.url}/c` }), callFetch(core, { url: `${site.url}/d` })]);
    expect(site.hits.robots).toBe(1);
  });

  it('concurrent first requests share one robots.txt fetch', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    const core = withRobots();
    await Promise.all([1, 2, 3].map((i) => callFetch(core, { url: `${site.url}/p${i}` })));
    expect(site.hits.robots).toBe(1);
  });

  it('a cached robots.txt expires after 24 hours (moved clock)', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    const c = clock();
    const core = withRobots({ now: c.now });
    await callFetch(core, { url: `${site.url}/a` });
    c.advance(23 * 3600_000);
    await callFetch(core, { url: `${site.url}/a` });
    expect(site.hits.robots).toBe(1);
    c.advance(2 * 3600_000);
    await callFetch(core, { url: `${site.url}/a` });
    expect(site.hits.robots).toBe(2);
  });

  it('an unreachable result is retried after a minute, not a day', async () => {
    let code = 503;
    const site = await siteWithRobots((req, res) => status(code)(req, res));
    const c = clock();
    const core = withRobots({ now: c.now });
    expect((await callFetch(core, { url: `${site.url}/a` })).isError).toBe(true);
    code = 404;
    expect((await callFetch(core, { url: `${site.url}/a` })).isError).toBe(true);
    c.advance(61_000);
    expect((await callFetch(core, { url: `${site.url}/a` })).isError).toBeFalsy();
    expect(site.hits.robots).toBe(2);
  });

  it('each redirect hop is checked against its own origin robots.txt', async () => {
    const target = await siteWithRobots(robotsTxt('User-agent: *\nDisallow: /secret\n'));
    const hop = await listenNode((req, res) => {
      if (req.url === '/robots.txt') {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(302, { location: `${target.url}/secret` });
      res.end();
    });
    open.push(hop);
    const result = await callFetch(withRobots(), { url: `${hop.url}/go` });
    expect(textOf(result)).toBe(
      `Fetching ${target.url}/secret is not allowed: ${target.url}/robots.txt disallows it for user agent "mcp-gateway-fetch". The user can open the page themselves.`,
    );
    expect(target.hits.pages).toEqual([]);
  });
});

describe('rfc9309: robots.txt goes through the SSRF policy', () => {
  it('with default settings a loopback origin is refused for robots.txt itself, no request made', async () => {
    const site = await siteWithRobots(robotsTxt(RULES));
    const result = await callFetch(withRobots({ allowHosts: [] }), { url: `${site.url}/a` });
    expect(textOf(result)).toBe(
      `Refused to fetch ${site.url}: 127.0.0.1 is a loopback address. Requests to internal networks are blocked (SSRF protection).`,
    );
    expect(site.hits.robots).toBe(0);
  });
});
