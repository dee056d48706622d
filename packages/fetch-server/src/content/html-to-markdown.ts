import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from './turndown.js';

/** The main content of an HTML page as Markdown. */
export interface Simplified {
  markdown: string;
  /** The page title Readability found, if any. */
  title?: string;
  /** False when Readability found no article and the whole body was converted. */
  extracted: boolean;
}

let turndown: TurndownService | undefined;

function converter(): TurndownService {
  if (turndown) return turndown;
  turndown = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '_',
    linkStyle: 'inlined',
  });
  turndown.remove(['script', 'style', 'noscript', 'template', 'iframe', 'object', 'embed', 'form', 'button']);
  return turndown;
}

/**
 * Parses HTML with linkedom. linkedom takes the first element as the root, so
 * pages without an `<html>` element (fragments, doctype + body) are wrapped
 * first; a document element and a body always exist afterwards.
 */
function parseDocument(html: string) {
  const { document } = parseHTML(html);
  if (document.documentElement?.nodeName === 'HTML' && document.body) return document;
  const inner = html.replace(/^\s*<!doctype[^>]*>/i, '');
  const wrapped = /<body[\s>]/i.test(inner)
    ? `<!doctype html><html>${inner}</html>`
    : `<!doctype html><html><head></head><body>${inner}</body></html>`;
  return parseHTML(wrapped).document;
}

function pin(document: object, prop: 'baseURI' | 'documentURI', value: string): void {
  Object.defineProperty(document, prop, { value, configurable: true });
}

/**
 * Turns an HTML page into Markdown: Mozilla Readability (the Firefox Reader
 * View engine, on a linkedom DOM) extracts the main content and drops
 * navigation, headers, footers and other boilerplate; Turndown converts the
 * result. Relative links and images become absolute against `pageUrl` (or the
 * page's `<base href>`). When Readability finds no article, the whole `<body>`
 * is converted instead so the caller still gets text.
 */
export function htmlToMarkdown(html: string, pageUrl: string): Simplified {
  const document = parseDocument(html);
  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  let base = pageUrl;
  if (baseHref) {
    try {
      base = new URL(baseHref, pageUrl).href;
    } catch {
      // keep the page URL
    }
  }
  pin(document, 'baseURI', base);
  pin(document, 'documentURI', pageUrl);
  let article: ReturnType<Readability<Node>['parse']> = null;
  try {
    // Keep the article as a DOM node (no innerHTML round trip): Turndown walks
    // it directly instead of parsing the same HTML a second time.
    article = new Readability<Node>(document, { serializer: (node) => node }).parse();
  } catch {
    article = null;
  }
  const td = converter();
  if (article?.content) {
    const markdown = td.turndown(article.content as unknown as TurndownService.Node).trim();
    if (markdown) return { markdown, title: article.title ?? undefined, extracted: true };
  }
  // Readability mutates the DOM it reads; convert a fresh parse of the whole body.
  const whole = parseDocument(html).body as unknown as TurndownService.Node;
  return { markdown: td.turndown(whole).trim(), extracted: false };
}
