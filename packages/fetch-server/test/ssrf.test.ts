import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AllowList,
  classifyAddress,
  createConnector,
  describeRange,
  FetchError,
  fetchPage,
  resolvePinned,
  systemResolver,
  type LogFields,
  type Logger,
  type Connector,
  type PinnedTarget,
  type ResolvedAddress,
  type Resolver,
} from '../src/index.js';
import { callFetch, testCore, textOf } from './helpers/core.js';
import { startSite } from './helpers/site.js';

let site: Awaited<ReturnType<typeof startSite>>;
beforeAll(async () => {
  site = await startSite();
});
afterAll(() => site.close());

/** Default settings: no allow-list. */
const defaults = () => testCore({ allowHosts: [] });

/** A resolver with fixed answers for test names, the system resolver for the rest; counts calls. */
function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const answer = table[hostname];
    if (!answer) return systemResolver(hostname);
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}

/** A connector spy: records targets, then either connects for real (loopback only) or refuses. */
function spyConnector(mode: 'real' | 'refuse'): Connector & { targets: PinnedTarget[] } {
  const targets: PinnedTarget[] = [];
  const real = createConnector();
  const connect: Connector = async (target, options) => {
    targets.push(target);
    if (mode === 'refuse') throw new FetchError('connect_failed', `spy refused ${target.address}`);
    return real(target, options);
  };
  return Object.assign(connect, { targets });
}

/** The code and logged address of the FetchError `promise` rejects with. */
async function refusalOf(promise: Promise<unknown>): Promise<{ code: string; address?: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof FetchError)) throw new Error(`expected a FetchError, got ${String(err)}`);
  return { code: err.code, ...(err.address !== undefined ? { address: err.address } : {}) };
}

const blocked = (origin: string, what: string) =>
  `Refused to fetch ${origin}: ${what} address. Requests to internal networks are blocked (SSRF protection).`;

describe('ssrf: with default settings the test site on loopback is refused', () => {
  it('a literal 127.0.0.1 URL is refused and no request reaches the site', async () => {
    const before = site.stats.hits.get('/article') ?? 0;
    const result = await callFetch(defaults(), { url: `${site.url}/article` });
    expect(result).toEqual({
      content: [{ type: 'text', text: blocked(site.url, '127.0.0.1 is a loopback') }],
      isError: true,
    });
    expect(site.stats.hits.get('/article') ?? 0).toBe(before);
  });

  it('a host name that resolves to loopback (localhost) is refused', async () => {
    const url = `http://localhost:${site.port}/article`;
    const text = textOf(await callFetch(defaults(), { url }));
    expect(text).toBe(blocked(`http://localhost:${site.port}`, 'localhost resolves to a non-public'));
  });

  it('the IPv6 loopback [::1] is refused', async () => {
    const text = textOf(await callFetch(defaults(), { url: `http://[::1]:${site.port}/article` }));
    expect(text).toBe(blocked(`http://[::1]:${site.port}`, '::1 is a loopback'));
  });

  it('the IPv4-mapped form [::ffff:127.0.0.1] is refused as the loopback it embeds', async () => {
    const text = textOf(
      await callFetch(defaults(), { url: `http://[::ffff:127.0.0.1]:${site.port}/article` }),
    );
    expect(text).toBe(
      blocked(
        `http://[::ffff:7f00:1]:${site.port}`,
        '::ffff:7f00:1 is a loopback (127.0.0.1 embedded as ipv4Mapped)',
      ),
    );
  });

  it.each(['2130706433', '0x7f.1', '127.1', '0177.0.0.1'])(
    'legacy numeric host %s is normalised to 127.0.0.1 and refused',
    async (host) => {
      const text = textOf(await callFetch(defaults(), { url: `http://${host}:${site.port}/article` }));
      expect(text).toBe(blocked(site.url, '127.0.0.1 is a loopback'));
    },
  );

  it('0.0.0.0 (which Linux routes to the local host) is refused', async () => {
    const text = textOf(await callFetch(defaults(), { url: `http://0.0.0.0:${site.port}/article` }));
    expect(text).toBe(blocked(`http://0.0.0.0:${site.port}`, '0.0.0.0 is an unspecified'));
  });
});

describe('ssrf: redirects are re-checked on every hop', () => {
  const viaAllowedHost = (target: string) => {
    const resolver = fakeResolver({ 'allowed.test': ['127.0.0.1'] });
    const core = testCore({ allowHosts: ['allowed.test'], resolver });
    const url = `http://allowed.test:${site.port}/redirect-to?url=${encodeURIComponent(target)}`;
    return callFetch(core, { url });
  };

  it('an allowed host redirecting to a loopback literal is refused, the target never requested', async () => {
    const before = site.stats.hits.get('/article') ?? 0;
    const result = await viaAllowedHost(`${site.url}/article`);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(blocked(site.url, '127.0.0.1 is a loopback'));
    expect(site.stats.hits.get('/article') ?? 0).toBe(before);
  });

  it('an allowed host redirecting to localhost is refused', async () => {
    const result = await viaAllowedHost(`http://localhost:${site.port}/article`);
    expect(textOf(result)).toBe(
      blocked(`http://localhost:${site.port}`, 'localhost resolves to a non-public'),
    );
  });

  it('an allowed host redirecting to [::1] or [::ffff:127.0.0.1] is refused', async () => {
    expect(textOf(await viaAllowedHost(`http://[::1]:${site.port}/`))).toContain('::1 is a loopback address');
    expect(textOf(await viaAllowedHost(`http://[::ffff:127.0.0.1]:${site.port}/`))).toContain(
      'a loopback (127.0.0.1 embedded as ipv4Mapped) address',
    );
  });

  it('an allowed host redirecting to the cloud metadata address is refused', async () => {
    const text = textOf(await viaAllowedHost('http://169.254.169.254/latest/meta-data/'));
    expect(text).toBe(blocked('http://169.254.169.254', '169.254.169.254 is a cloud metadata'));
  });

  it('a redirect to a non-http scheme is refused', async () => {
    const text = textOf(await viaAllowedHost('file:///etc/passwd'));
    expect(text).toBe('Refused URL scheme "file": only http and https URLs can be fetched');
  });
});

describe('ssrf: internal ranges behind a host name are refused before any connection', () => {
  it.each([
    ['private-10.test', '10.0.0.5', 'a private (RFC 1918)'],
    ['private-172.test', '172.20.0.1', 'a private (RFC 1918)'],
    ['private-192.test', '192.168.1.10', 'a private (RFC 1918)'],
    ['link-local.test', '169.254.10.10', 'a link-local'],
    ['metadata.test', '169.254.169.254', 'a cloud metadata'],
    ['metadata-v6.test', 'fd00:ec2::254', 'a cloud metadata'],
    ['cgnat.test', '100.64.1.1', 'a carrier-grade NAT (100.64.0.0/10)'],
    ['ula.test', 'fd12:3456::1', 'a unique-local (fc00::/7)'],
    ['v6-link-local.test', 'fe80::1', 'a link-local'],
    ['mapped.test', '::ffff:10.0.0.1', 'a private (RFC 1918) (10.0.0.1 embedded as ipv4Mapped)'],
    ['multicast.test', '224.0.0.251', 'a multicast'],
    ['unspecified.test', '0.0.0.0', 'an unspecified'],
    ['loopback.test', '127.0.0.53', 'a loopback'],
  ])(
    '%s → %s is refused and connect is never called; the message does not name the address',
    async (name, address, what) => {
      const resolver = fakeResolver({ [name]: [address] });
      const connect = spyConnector('refuse');
      const core = testCore({ allowHosts: [], resolver, connect });
      const result = await callFetch(core, { url: `http://${name}/x` });
      expect(result).toEqual({
        content: [{ type: 'text', text: blocked(`http://${name}`, `${name} resolves to a non-public`) }],
        isError: true,
      });
      expect(connect.targets).toEqual([]);
      expect(resolver.calls).toEqual([name]);
      // The classification the caller no longer sees is the same as before.
      expect(await refusalOf(resolvePinned(new URL(`http://${name}/x`), resolver, new AllowList()))).toEqual({
        code: 'blocked_address',
        address,
      });
      expect(describeRange(classifyAddress(address))).toBe(what.replace(/^an? /, ''));
    },
  );

  it('a name with one public and one private address is refused (every address is checked)', async () => {
    const resolver = fakeResolver({ 'mixed.test': ['93.184.216.34', '10.0.0.1'] });
    const connect = spyConnector('refuse');
    const text = textOf(
      await callFetch(testCore({ allowHosts: [], resolver, connect }), { url: 'http://mixed.test/' }),
    );
    expect(text).toBe(blocked('http://mixed.test', 'mixed.test resolves to a non-public'));
    expect(text).not.toContain('10.0.0.1');
    expect(connect.targets).toEqual([]);
  });

  it('a public address passes the check and is what connect receives (no real connection: the spy refuses)', async () => {
    const resolver = fakeResolver({ 'public.test': ['93.184.216.34'] });
    const connect = spyConnector('refuse');
    const result = await callFetch(testCore({ allowHosts: [], resolver, connect }), {
      url: 'https://public.test/page',
    });
    expect(textOf(result)).toBe('spy refused 93.184.216.34');
    expect(connect.targets.map((t) => [t.hostname, t.address, t.family])).toEqual([
      ['public.test', '93.184.216.34', 4],
    ]);
  });

  it('a resolver failure is reported as such', async () => {
    const resolver: Resolver = async () => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    const result = await callFetch(testCore({ allowHosts: [], resolver }), { url: 'http://missing.test/' });
    expect(result).toEqual({
      content: [{ type: 'text', text: 'Could not resolve host missing.test (ENOTFOUND)' }],
      isError: true,
    });
  });
});

describe('ssrf: pinning — resolve once, connect to the checked address', () => {
  it('the host is resolved once per hop and the socket goes to that address, with the original Host header', async () => {
    // A rebinding resolver: the first answer passes the check, later answers point inside.
    const answers = ['127.0.0.1', '10.0.0.1'];
    const calls: string[] = [];
    const resolver: Resolver = async (hostname) => {
      calls.push(hostname);
      const address = answers[Math.min(calls.length - 1, answers.length - 1)]!;
      return [{ address, family: 4 }];
    };
    const connect = spyConnector('real');
    // Allowed by address (CIDR), not by name: the check applies to what was resolved.
    const core = testCore({ allowHosts: ['127.0.0.0/8'], resolver, connect });
    const text = textOf(await callFetch(core, { url: `http://pinned.test:${site.port}/echo-headers` }));
    expect(text).toContain(`"host": "pinned.test:${site.port}"`);
    expect(calls).toEqual(['pinned.test']);
    expect(connect.targets.map((t) => [t.hostname, t.address])).toEqual([['pinned.test', '127.0.0.1']]);
    // The next fetch resolves again, sees the rebinding answer and is refused before connecting.
    const second = await callFetch(core, { url: `http://pinned.test:${site.port}/echo-headers` });
    expect(textOf(second)).toBe(
      blocked(`http://pinned.test:${site.port}`, 'pinned.test resolves to a non-public'),
    );
    expect(calls).toEqual(['pinned.test', 'pinned.test']);
    expect(connect.targets).toHaveLength(1);
  });
});

describe('ssrf: URL policy', () => {
  it.each([
    ['file:///etc/passwd', 'Refused URL scheme "file": only http and https URLs can be fetched'],
    ['ftp://example.com/x', 'Refused URL scheme "ftp": only http and https URLs can be fetched'],
    ['gopher://127.0.0.1:6379/_INFO', 'Refused URL scheme "gopher": only http and https URLs can be fetched'],
    ['javascript:alert(1)', 'Refused URL scheme "javascript": only http and https URLs can be fetched'],
    [
      'http://user:pass@example.com/',
      'Refused URL with credentials (user:password@host): remove the userinfo part',
    ],
    [
      'http://user@example.com/',
      'Refused URL with credentials (user:password@host): remove the userinfo part',
    ],
    ['not a url', 'Invalid URL: not a url'],
  ])('%s is refused: %s', async (url, message) => {
    const connect = spyConnector('refuse');
    const result = await callFetch(testCore({ connect }), { url });
    expect(result).toEqual({ content: [{ type: 'text', text: message }], isError: true });
    expect(connect.targets).toEqual([]);
  });
});

describe('ssrf: refusals never reveal what a host name resolves to (internal DNS)', () => {
  /** A logger that keeps every line, to see what the operator gets. */
  function recordingLogger(): Logger & { lines: [string, LogFields | undefined][] } {
    const lines: [string, LogFields | undefined][] = [];
    const log = (msg: string, fields?: LogFields) => void lines.push([msg, fields]);
    return { lines, debug: log, info: log, warn: log, error: log };
  }

  it('a name resolving to 10.1.2.3 is refused without the address; the code is blocked_address and the log has it', async () => {
    const resolver = fakeResolver({ 'db.internal.corp': ['10.1.2.3'] });
    const logger = recordingLogger();
    const core = testCore({ allowHosts: [], resolver, connect: spyConnector('refuse'), logger });
    const result = await callFetch(core, { url: 'http://db.internal.corp/' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      blocked('http://db.internal.corp', 'db.internal.corp resolves to a non-public'),
    );
    expect(textOf(result)).not.toContain('10.1.2.3');
    expect(logger.lines).toContainEqual([
      'fetch refused',
      expect.objectContaining({ code: 'blocked_address', address: '10.1.2.3' }),
    ]);
    const direct = fetchPage(core, 'http://db.internal.corp/', { raw: false, checkRobots: false });
    expect(await refusalOf(direct)).toEqual({ code: 'blocked_address', address: '10.1.2.3' });
  });

  it('a redirect to a name resolving inside is refused without the address', async () => {
    const resolver = fakeResolver({ 'allowed.test': ['127.0.0.1'], 'db.internal.corp': ['10.1.2.3'] });
    const core = testCore({ allowHosts: ['allowed.test'], resolver });
    const url = `http://allowed.test:${site.port}/redirect-to?url=${encodeURIComponent('http://db.internal.corp/')}`;
    const text = textOf(await callFetch(core, { url }));
    expect(text).toBe(blocked('http://db.internal.corp', 'db.internal.corp resolves to a non-public'));
    expect(text).not.toContain('10.1.2.3');
    expect(await refusalOf(fetchPage(core, url, { raw: false, checkRobots: false }))).toEqual({
      code: 'blocked_address',
      address: '10.1.2.3',
    });
  });

  it('a resolver answering with a name instead of an IP is refused without echoing that name', async () => {
    // Checked like any other answer: not a public IP, so refused.
    const resolver: Resolver = async () => [{ address: 'db.internal.corp', family: 4 }];
    const core = testCore({ allowHosts: [], resolver, connect: spyConnector('refuse') });
    const text = textOf(await callFetch(core, { url: 'http://cname.test/' }));
    expect(text).toBe(blocked('http://cname.test', 'cname.test resolves to a non-public'));
    expect(text).not.toContain('db.internal.corp');
    // Allowed by name, the answer is still not connected to, and still not named.
    const allowed = testCore({ allowHosts: ['cname.test'], resolver, connect: spyConnector('refuse') });
    const text2 = textOf(await callFetch(allowed, { url: 'http://cname.test/' }));
    expect(text2).toBe('Resolver returned a non-IP address for cname.test');
    expect(
      await refusalOf(fetchPage(allowed, 'http://cname.test/', { raw: false, checkRobots: false })),
    ).toEqual({
      code: 'dns_failed',
    });
  });

  it('a connection failure to an allowed internal name names the host, not its address', async () => {
    // A port with nothing listening: bind one, note it, close it.
    const closed = await startSite();
    const port = closed.port;
    await closed.close();
    const resolver = fakeResolver({ 'db.internal.corp': ['127.0.0.1'] });
    const core = testCore({ allowHosts: ['db.internal.corp'], resolver });
    const result = await callFetch(core, { url: `http://db.internal.corp:${port}/` });
    expect(textOf(result)).toBe(
      `Could not connect to db.internal.corp:${port}: connection failed (ECONNREFUSED)`,
    );
    expect(textOf(result)).not.toContain('127.0.0.1');
  });
});
