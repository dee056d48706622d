import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';

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
  const { document } = parseHTML(html);
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
  const fallbackHtml = document.body?.innerHTML ?? html;
  let article: ReturnType<Readability['parse']> = null;
  try {
    article = new Readability(document).parse();
  } catch {
    article = null;
  }
  const td = converter();
  if (article?.content) {
    const markdown = td.turndown(article.content).trim();
    if (markdown) return { markdown, title: article.title ?? undefined, extracted: true };
  }
  return { markdown: td.turndown(fallbackHtml).trim(), extracted: false };
}
