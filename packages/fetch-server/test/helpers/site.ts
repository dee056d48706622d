import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { listenNode, type Listening } from '@mcp-gateway/testkit';
import iconv from 'iconv-lite';

/** Markers the boilerplate page carries: main content must stay, boilerplate must go. */
export const MAIN_MARKER = 'MAINCONTENTMARKER';
export const BOILERPLATE = ['NAVBOILERPLATE', 'FOOTERBOILERPLATE', 'SIDEBARBOILERPLATE', 'COOKIEBANNER'];

const paragraph = (n: number) =>
  `<p>Paragraph ${n} of the article explains, in plain sentences, how a careful fetcher reads a page, ` +
  `checks where it connects, and turns the main content into Markdown without the clutter around it.</p>`;

/** An HTML page with navigation, sidebar, footer and cookie banner around one article. */
export function boilerplatePage(paragraphs = 12): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test article</title>
<style>body{font-family:sans-serif}</style><script>window.tracking = "SCRIPTBODY";</script></head>
<body>
<header class="site-header"><nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/about">About NAVBOILERPLATE</a></li><li><a href="/blog">Blog</a></li></ul></nav></header>
<div class="cookie-banner" id="cookie-consent">We use cookies COOKIEBANNER <button>Accept</button></div>
<main><article>
<h1>How the fetcher works</h1>
<p>${MAIN_MARKER}: the first paragraph has a <a href="/relative/link">relative link</a> and <strong>bold text</strong>.</p>
${Array.from({ length: paragraphs }, (_, i) => paragraph(i + 1)).join('\n')}
<h2>A list</h2><ul><li>first item</li><li>second item</li></ul>
<pre><code>const x = 1;</code></pre>
</article></main>
<aside class="sidebar"><h3>Related</h3><ul><li><a href="/x">SIDEBARBOILERPLATE one</a></li><li><a href="/y">Popular posts</a></li></ul></aside>
<footer class="site-footer"><p>Copyright 2026 FOOTERBOILERPLATE. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>`;
}

const RUSSIAN = 'Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.';
const JAPANESE = '日本語のテキストです。いろはにほへと ちりぬるを。';
export const TEXTS = { RUSSIAN, JAPANESE };

/**
 * A page that takes about 2 s to convert on a 2-core test machine while within every shape bound of
 * htmlToMarkdown (49,000 list items, 640 KB): what the conversion deadline is for.
 */
export function slowToConvertPage(): string {
  return `<!doctype html><html><head><title>slow</title></head><body><ul>${'<li>item</li>'.repeat(49_000)}</ul></body></html>`;
}

function charsetPage(text: string, head = ''): string {
  return `<!doctype html><html><head>${head}<title>${text.slice(0, 10)}</title></head><body><article><h1>${text}</h1>${`<p>${text} ${text} ${text}</p>`.repeat(6)}</article></body></html>`;
}

/** Counters the tests read to prove what the site saw. */
export interface SiteStats {
  hits: Map<string, number>;
  /** Set when a /huge stream was closed by the client. */
  hugeClosedBy?: 'client';
  hugeBytesSent: number;
  lastHeaders?: IncomingMessage['headers'];
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/** A local site serving every test page. Reach it through an allow-list (it is on 127.0.0.1). */
export async function startSite(): Promise<Listening & { stats: SiteStats }> {
  const stats: SiteStats = { hits: new Map(), hugeBytesSent: 0 };
  const html = (res: ServerResponse, body: string | Buffer, type = 'text/html; charset=utf-8') => {
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  };
  const routes: Record<string, Route> = {
    '/article': (_q, res) => html(res, boilerplatePage()),
    '/slow-to-convert': (_q, res) => html(res, slowToConvertPage()),
    '/cp1251': (_q, res) =>
      html(res, iconv.encode(charsetPage(RUSSIAN), 'windows-1251'), 'text/html; charset=windows-1251'),
    '/cp1251-meta': (_q, res) =>
      html(
        res,
        iconv.encode(charsetPage(RUSSIAN, '<meta charset="windows-1251">'), 'windows-1251'),
        'text/html',
      ),
    '/sjis': (_q, res) =>
      html(res, iconv.encode(charsetPage(JAPANESE), 'shift_jis'), 'text/html; charset=Shift_JIS'),
    '/sjis-meta': (_q, res) =>
      html(
        res,
        iconv.encode(
          charsetPage(JAPANESE, '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'),
          'shift_jis',
        ),
        'text/html',
      ),
    '/plain-cp1251': (_q, res) =>
      html(res, iconv.encode(RUSSIAN, 'windows-1251'), 'text/plain; charset=windows-1251'),
    '/json': (_q, res) => html(res, '{"a":1,"b":[true,null],"c":{"d":"é"}}', 'application/json'),
    '/text': (_q, res) => html(res, 'just some text\nsecond line', 'text/plain'),
    '/long': (_q, res) => html(res, 'abcdefghij'.repeat(1200), 'text/plain; charset=utf-8'),
    '/png': (_q, res) => html(res, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'image/png'),
    '/no-type-binary': (_q, res) => {
      res.writeHead(200);
      res.end(Buffer.from([1, 2, 0, 3, 0, 0]));
    },
    '/gzip': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(boilerplatePage()));
    },
    '/gzip-bomb': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x61)));
    },
    '/huge': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      res.once('close', () => {
        if (!res.writableFinished) stats.hugeClosedBy = 'client';
      });
      const pump = () => {
        while (!res.destroyed) {
          stats.hugeBytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    },
    '/huge-declared': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(50 * 1024 * 1024) });
      res.write('only a little');
    },
    '/slow': () => {
      // Never answers: the fetcher's total timeout must end it.
    },
    '/slow-body': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('the start, and then nothing');
    },
    '/status/404': (_q, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    },
    '/status/503': (_q, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down');
    },
    '/echo-headers': (req, res) => html(res, JSON.stringify(req.headers), 'application/json'),
    '/redirect-to': (_q, res, url) => {
      res.writeHead(302, { location: url.searchParams.get('url') ?? '/' });
      res.end();
    },
  };
  const listening = await listenNode((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site.test');
    stats.hits.set(url.pathname, (stats.hits.get(url.pathname) ?? 0) + 1);
    stats.lastHeaders = req.headers;
    const redirect = /^\/redirect\/(\d+)$/.exec(url.pathname);
    if (redirect) {
      const n = Number(redirect[1]);
      if (n === 0) return html(res, 'arrived after the chain', 'text/plain');
      res.writeHead(n % 2 ? 301 : 307, { location: `/redirect/${n - 1}` });
      return void res.end();
    }
    const route = routes[url.pathname];
    if (route) return route(req, res, url);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such page');
  });
  return Object.assign(listening, { stats });
}
