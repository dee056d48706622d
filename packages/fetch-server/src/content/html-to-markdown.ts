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

/**
 * Readability's cost grows with how deep elements sit, not with the page's size: a 10 KB page of
 * 2,000 nested `<div>`s took 70 s (one thread: the whole gateway stalls), 300 nested 0.24 s, and
 * pages whose elements' depths add up to 100,000 0.2–0.8 s. A page past either bound is
 * converted whole instead (`extracted: false`).
 */
const READABILITY_MAX_DEPTH = 100;
const READABILITY_MAX_DEPTH_SUM = 50_000;
/** Past this many elements, or this depth (Turndown recurses), the page's text is returned as is. */
const CONVERT_MAX_ELEMENTS = 50_000;
const CONVERT_MAX_DEPTH = 1_000;

/** How many elements `root` holds, how deep the deepest sits, and their depths added up (stops past {@link CONVERT_MAX_ELEMENTS}). */
function shape(root: Element): { elements: number; depth: number; depthSum: number } {
  let elements = 0;
  let depth = 0;
  let depthSum = 0;
  const stack: Array<[Element, number]> = [[root, 1]];
  while (stack.length > 0 && elements <= CONVERT_MAX_ELEMENTS) {
    const [el, d] = stack.pop()!;
    elements++;
    depthSum += d;
    if (d > depth) depth = d;
    for (let c = el.firstElementChild; c; c = c.nextElementSibling) stack.push([c, d + 1]);
  }
  return { elements, depth, depthSum };
}

function pin(document: object, prop: 'baseURI' | 'documentURI', value: string): void {
  Object.defineProperty(document, prop, { value, configurable: true });
}

/**
 * Turns an HTML page into Markdown: Mozilla Readability (the Firefox Reader
 * View engine, on a linkedom DOM) extracts the main content and drops
 * navigation, headers, footers and other boilerplate; Turndown converts the
 * result. Relative links and images become absolute against `pageUrl` (or the
 * page's `<base href>`). When Readability finds no article, or the page is
 * shaped so that it would take too long (see {@link READABILITY_MAX_DEPTH}), the
 * whole `<body>` is converted instead so the caller still gets text; a page too
 * large or deep even for that gives its text as is.
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
  const size = shape(document.documentElement);
  if (size.elements > CONVERT_MAX_ELEMENTS || size.depth > CONVERT_MAX_DEPTH) {
    return { markdown: (document.body.textContent ?? '').replace(/\s+/g, ' ').trim(), extracted: false };
  }
  let article: ReturnType<Readability<Node>['parse']> = null;
  if (size.depth <= READABILITY_MAX_DEPTH && size.depthSum <= READABILITY_MAX_DEPTH_SUM) {
    try {
      // Keep the article as a DOM node (no innerHTML round trip): Turndown walks
      // it directly instead of parsing the same HTML a second time.
      article = new Readability<Node>(document, { serializer: (node) => node }).parse();
    } catch {
      article = null;
    }
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
