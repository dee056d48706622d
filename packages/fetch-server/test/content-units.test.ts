import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  decodeBody,
  htmlToMarkdown,
  parseContentType,
  renderContent,
  sniffMetaCharset,
} from '../src/index.js';

describe('html to markdown: edge cases', () => {
  it.each([
    ['hello <b>x</b>', 'hello **x**'],
    ['<p>para</p>', 'para'],
    ['<!doctype html><head><title>T</title></head><body><p>in body</p></body>', 'in body'],
    ['', ''],
    ['<html></html>', ''],
  ])('fragment or bare document %j becomes %j', (html, markdown) => {
    expect(htmlToMarkdown(html, 'http://a.test/').markdown).toBe(markdown);
  });

  it('a <base href> decides how relative links resolve', () => {
    const html = `<html><head><base href="https://cdn.test/docs/"></head><body><article><p>${'Words in the article body. '.repeat(30)}<a href="guide.html">guide</a></p></article></body></html>`;
    expect(htmlToMarkdown(html, 'https://site.test/page').markdown).toContain(
      '[guide](https://cdn.test/docs/guide.html)',
    );
  });

  it('an HTML page that simplifies to nothing gives the official error line', () => {
    const r = renderContent(Buffer.from('<html><body></body></html>'), 'text/html', 'http://a.test/', false);
    expect(r.text).toBe('<error>Page failed to be simplified from HTML</error>');
    expect(r.prefix).toBe('');
  });

  it('a body without Content-Type that looks like HTML is simplified (official behaviour)', () => {
    const r = renderContent(
      Buffer.from('<!doctype html><html><body><p>hi <b>x</b></p></body></html>'),
      undefined,
      'http://a.test/',
      false,
    );
    expect(r).toMatchObject({ text: 'hi **x**', prefix: '' });
  });

  it('raw JSON is returned as sent, not pretty-printed', () => {
    const r = renderContent(Buffer.from('{"a":1}'), 'application/problem+json', 'http://a.test/', true);
    expect(r.text).toBe('{"a":1}');
  });
});

describe('html to markdown: pages shaped to stall the converter', () => {
  // Without the bounds, Readability took 9.5 s on 1,000 nested divs and 70 s on 2,000, on one thread.
  const nested = (n: number, inner: string) =>
    `<html><body>${'<div>'.repeat(n)}${inner}${'</div>'.repeat(n)}</body></html>`;
  // No timing asserted here: without the bounds these tests outlive the test timeout, and they
  // check that Readability was not run (`extracted: false`).
  const timed = (html: string) => ({ out: htmlToMarkdown(html, 'http://a.test/') });

  it('2,000 nested divs (10 KB) convert at once, whole, text kept', () => {
    const { out } = timed(nested(2000, 'deep text'));
    expect(out.markdown).toBe('deep text');
    expect(out.extracted).toBe(false);
  });

  it('many chains of 100 nested divs skip Readability too; a page past 1,000 levels gives its text', () => {
    const chain = `${'<div>'.repeat(100)}chain text ${'</div>'.repeat(100)}`;
    const chains = timed(`<html><body>${chain.repeat(60)}</body></html>`);
    expect(chains.out.extracted).toBe(false);
    expect(chains.out.markdown).toContain('chain text');
    const deep = timed(nested(5000, 'very deep'));
    expect(deep.out).toEqual({ markdown: 'very deep', extracted: false });
  });

  it('an ordinary article is still extracted by Readability', () => {
    const paragraphs = Array.from(
      { length: 30 },
      (_, i) =>
        `<p>Paragraph ${i} of the story, long enough to count as content for the reader view, with commas, and more words.</p>`,
    ).join('');
    const { out } = timed(
      `<html><head><title>Story</title></head><body><nav><a href="/">Home</a></nav><article><h1>Story</h1>${paragraphs}</article><footer>Footer links</footer></body></html>`,
    );
    expect(out.extracted).toBe(true);
    expect(out.markdown).toContain('Paragraph 29 of the story');
    expect(out.markdown).not.toContain('Footer links');
  });
});

describe('charset: detection order (BOM, header, meta, UTF-8)', () => {
  it('parses the Content-Type charset parameter, quoted or not, case-insensitively', () => {
    expect(parseContentType('text/html; Charset="Windows-1251"')).toEqual({
      essence: 'text/html',
      charset: 'windows-1251',
    });
    expect(parseContentType('TEXT/PLAIN;foo=bar; charset=utf-8')).toEqual({
      essence: 'text/plain',
      charset: 'utf-8',
    });
    expect(parseContentType(undefined)).toEqual({ essence: '' });
  });

  it('finds <meta charset> and <meta http-equiv> in the first 1024 bytes only', () => {
    expect(sniffMetaCharset(Buffer.from('<head><meta charset="Shift_JIS">'))).toBe('shift_jis');
    expect(
      sniffMetaCharset(Buffer.from(`<meta http-equiv='Content-Type' content='text/html; charset=koi8-r'>`)),
    ).toBe('koi8-r');
    expect(sniffMetaCharset(Buffer.from(`${' '.repeat(1100)}<meta charset="koi8-r">`))).toBeUndefined();
  });

  it('a BOM beats the header, the header beats meta, unknown labels fall through', () => {
    const utf8Bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('é')]);
    expect(decodeBody(utf8Bom, { essence: 'text/plain', charset: 'windows-1252' }, false)).toEqual({
      text: 'é',
      charset: 'utf-8',
      source: 'bom',
    });
    const cp1251 = iconv.encode('<meta charset="koi8-r">Привет', 'windows-1251');
    expect(decodeBody(cp1251, { essence: 'text/html', charset: 'windows-1251' }, true).text).toContain(
      'Привет',
    );
    expect(decodeBody(cp1251, { essence: 'text/html', charset: 'no-such-charset' }, true).source).toBe(
      'meta',
    );
    expect(decodeBody(Buffer.from('plain'), { essence: 'text/plain' }, false)).toEqual({
      text: 'plain',
      charset: 'utf-8',
      source: 'default',
    });
  });

  it('utf-16 little-endian with a BOM is decoded', () => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('Grüße', 'utf-16le')]);
    expect(decodeBody(body, { essence: 'text/plain' }, false).text).toBe('Grüße');
  });
});
