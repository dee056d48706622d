import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callFetch, testCore, textOf } from './helpers/core.js';
import { BOILERPLATE, MAIN_MARKER, startSite, TEXTS } from './helpers/site.js';

let site: Awaited<ReturnType<typeof startSite>>;
beforeAll(async () => {
  site = await startSite();
});
afterAll(() => site.close());

describe('fetch tool: HTML to Markdown', () => {
  it('readability keeps the article and drops navigation, sidebar, footer, banner and scripts', async () => {
    const result = await callFetch(testCore(), { url: `${site.url}/article`, max_length: 100_000 });
    expect(result.isError).toBeFalsy();
    const text = textOf(result);
    expect(text.startsWith(`Contents of ${site.url}/article:\n`)).toBe(true);
    expect(text).toContain(MAIN_MARKER);
    expect(text).toContain('**bold text**');
    expect(text).toMatch(/^- +first item$/m);
    expect(text).toContain('```\nconst x = 1;\n```');
    for (const marker of [...BOILERPLATE, 'SCRIPTBODY']) expect(text).not.toContain(marker);
  });

  it('relative links are made absolute against the page URL', async () => {
    const text = textOf(await callFetch(testCore(), { url: `${site.url}/article`, max_length: 100_000 }));
    expect(text).toContain(`[relative link](${site.url}/relative/link)`);
  });

  it('raw: true returns the HTML itself with the official raw-content prefix', async () => {
    const text = textOf(
      await callFetch(testCore(), { url: `${site.url}/article`, raw: true, max_length: 100_000 }),
    );
    expect(
      text.startsWith(
        'Content type text/html; charset=utf-8 cannot be simplified to markdown, but here is the raw content:\n',
      ),
    ).toBe(true);
    expect(text).toContain('NAVBOILERPLATE');
    expect(text).toContain('<article>');
  });

  it('gzip-encoded pages are decompressed before simplification', async () => {
    const text = textOf(await callFetch(testCore(), { url: `${site.url}/gzip`, max_length: 100_000 }));
    expect(text).toContain(MAIN_MARKER);
  });
});

describe('fetch tool: charsets', () => {
  it.each([
    ['/cp1251', TEXTS.RUSSIAN, 'windows-1251 from the Content-Type header'],
    ['/cp1251-meta', TEXTS.RUSSIAN, 'windows-1251 from <meta charset>'],
    ['/sjis', TEXTS.JAPANESE, 'Shift_JIS from the Content-Type header'],
    ['/sjis-meta', TEXTS.JAPANESE, 'Shift_JIS from <meta http-equiv>'],
    ['/plain-cp1251', TEXTS.RUSSIAN, 'windows-1251 text/plain'],
  ])('decodes %s (%s)', async (path, expected) => {
    const result = await callFetch(testCore(), { url: `${site.url}${path}`, max_length: 100_000 });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain(expected);
    expect(textOf(result)).not.toContain('\uFFFD');
  });
});

describe('fetch tool: other content types', () => {
  it('JSON is pretty-printed', async () => {
    const text = textOf(await callFetch(testCore(), { url: `${site.url}/json` }));
    expect(text).toBe(
      'Content type application/json cannot be simplified to markdown, but here is the raw content:\n' +
        `Contents of ${site.url}/json:\n{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ],\n  "c": {\n    "d": "é"\n  }\n}`,
    );
  });

  it('text/plain passes through unchanged', async () => {
    const text = textOf(await callFetch(testCore(), { url: `${site.url}/text` }));
    expect(text.endsWith(`Contents of ${site.url}/text:\njust some text\nsecond line`)).toBe(true);
  });

  it('binary content types are refused with a clear message', async () => {
    const result = await callFetch(testCore(), { url: `${site.url}/png` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `Content type image/png is binary and cannot be returned as text (from ${site.url}/png)`,
    );
  });

  it('binary bodies without a Content-Type are refused', async () => {
    const result = await callFetch(testCore(), { url: `${site.url}/no-type-binary` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `${site.url}/no-type-binary returned binary content without a Content-Type; it cannot be shown as text`,
    );
  });

  it('HTTP error statuses are tool errors naming the status, like the official server', async () => {
    const result = await callFetch(testCore(), { url: `${site.url}/status/404` });
    expect(result).toEqual({
      content: [{ type: 'text', text: `Failed to fetch ${site.url}/status/404 - status code 404` }],
      isError: true,
    });
  });
});

describe('fetch tool: pagination (official start_index / max_length contract)', () => {
  const url = () => `${site.url}/long`;
  const prefix =
    'Content type text/plain; charset=utf-8 cannot be simplified to markdown, but here is the raw content:\n';

  it('cuts at max_length and says which start_index continues', async () => {
    const text = textOf(await callFetch(testCore(), { url: url(), max_length: 5000 }));
    expect(text).toBe(
      `${prefix}Contents of ${url()}:\n${'abcdefghij'.repeat(500)}\n\n<error>Content truncated. Call the fetch tool with a start_index of 5000 to get more content.</error>`,
    );
  });

  it('the last chunk has no continuation line', async () => {
    const text = textOf(await callFetch(testCore(), { url: url(), start_index: 10_000, max_length: 5000 }));
    expect(text).toBe(`${prefix}Contents of ${url()}:\n${'abcdefghij'.repeat(200)}`);
  });

  it('a start_index past the end answers the official "No more content" line', async () => {
    const text = textOf(await callFetch(testCore(), { url: url(), start_index: 12_000 }));
    expect(text).toBe(`${prefix}Contents of ${url()}:\n<error>No more content available.</error>`);
  });
});

describe('fetch tool: limits', () => {
  it('an endless body is cut off at the size cap and the connection is closed', async () => {
    const result = await callFetch(testCore({ maxBytes: 1024 * 1024 }), { url: `${site.url}/huge` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `Response from ${site.url} is larger than the 1048576-byte limit; not read further`,
    );
    await expect.poll(() => site.stats.hugeClosedBy).toBe('client');
  });

  it('a declared Content-Length over the cap is refused before reading the body', async () => {
    const result = await callFetch(testCore({ maxBytes: 1024 * 1024 }), { url: `${site.url}/huge-declared` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `Response from ${site.url} is larger than the 1048576-byte limit; not read further`,
    );
  });

  it('the cap counts decompressed bytes, so a gzip bomb is cut off', async () => {
    const result = await callFetch(testCore({ maxBytes: 1024 * 1024 }), { url: `${site.url}/gzip-bomb` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('larger than the 1048576-byte limit');
  });

  it('a server that never answers hits the total timeout', async () => {
    const result = await callFetch(testCore({ timeoutMs: 300 }), { url: `${site.url}/slow` });
    expect(result).toEqual({
      content: [{ type: 'text', text: `Timed out after 300 ms fetching ${site.url}/slow` }],
      isError: true,
    });
  });

  it('a body that stalls half-way hits the total timeout too', async () => {
    const result = await callFetch(testCore({ timeoutMs: 300 }), { url: `${site.url}/slow-body` });
    expect(textOf(result)).toBe(`Timed out after 300 ms fetching ${site.url}/slow-body`);
    expect(result.isError).toBe(true);
  });

  it('redirects: a chain of 5 is followed to the end', async () => {
    const text = textOf(await callFetch(testCore(), { url: `${site.url}/redirect/5` }));
    expect(text).toContain('arrived after the chain');
  });

  it('redirects: a sixth redirect is refused', async () => {
    const result = await callFetch(testCore(), { url: `${site.url}/redirect/6` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(`Too many redirects fetching ${site.url}/redirect/6 (more than 5)`);
  });

  it('the configured User-Agent is sent, the default one names the project', async () => {
    await callFetch(testCore(), { url: `${site.url}/echo-headers` });
    expect(site.stats.lastHeaders?.['user-agent']).toMatch(
      /^mcp-gateway-fetch\/\d+\.\d+\.\d+ \(\+https:\/\/github\.com\/mcp-gateway\/mcp-gateway\)$/,
    );
    await callFetch(testCore({ userAgent: 'custom-agent/2.0' }), { url: `${site.url}/echo-headers` });
    expect(site.stats.lastHeaders?.['user-agent']).toBe('custom-agent/2.0');
  });
});
