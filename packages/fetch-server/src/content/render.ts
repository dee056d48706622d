import { FetchError } from '../errors.js';
import { decodeBody, parseContentType } from './charset.js';
import { htmlToMarkdown, type Simplified } from './html-to-markdown.js';

/** The text a fetch returns, and the line that goes before it. */
export interface RenderedContent {
  /** The page text: Markdown for simplified HTML, otherwise the body as text. */
  text: string;
  /**
   * Empty for simplified HTML; otherwise the official fetch server's
   * `Content type … cannot be simplified to markdown, but here is the raw content:` line.
   */
  prefix: string;
  /** Lower-case media type, `''` when the server sent none. */
  mediaType: string;
  /** Charset the body was decoded with. */
  charset: string;
}

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const TEXTUAL_APPLICATION = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/x-www-form-urlencoded',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/graphql',
  'application/sql',
  'application/x-sh',
  'application/x-httpd-php',
  'application/rtf',
  'application/x-ndjson',
  'application/csp-report',
]);

/** True for media types whose body is text (HTML, text/*, JSON, XML, scripts, ...). */
export function isTextual(essence: string): boolean {
  return (
    essence.startsWith('text/') ||
    HTML_TYPES.has(essence) ||
    TEXTUAL_APPLICATION.has(essence) ||
    essence.endsWith('+json') ||
    essence.endsWith('+xml') ||
    essence.endsWith('+yaml')
  );
}

function looksBinary(body: Uint8Array): boolean {
  const n = Math.min(body.length, 1024);
  for (let i = 0; i < n; i++) if (body[i] === 0) return true;
  return false;
}

function looksLikeHtml(body: Uint8Array): boolean {
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.length, 512)).toString('latin1');
  return /<(!doctype\s+html|html)[\s>]/i.test(head);
}

function isJson(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json');
}

/** Converts an HTML page to Markdown: {@link htmlToMarkdown} here, or in a worker (`ConversionPool`). */
export type HtmlConverter = (html: string, pageUrl: string) => Promise<Simplified>;

/** A body classified and decoded: either its final text, or HTML still to convert. */
type Prepared =
  { rendered: RenderedContent } | { html: string; mediaType: string; charset: string; rendered?: undefined };

function prepare(
  body: Uint8Array,
  contentTypeHeader: string | undefined,
  pageUrl: string,
  raw: boolean,
): Prepared {
  const mediaType = parseContentType(contentTypeHeader);
  const essence = mediaType.essence;
  let html: boolean;
  if (!essence) {
    if (looksBinary(body)) {
      throw new FetchError(
        'unsupported_content',
        `${pageUrl} returned binary content without a Content-Type; it cannot be shown as text`,
      );
    }
    html = looksLikeHtml(body);
  } else if (!isTextual(essence)) {
    throw new FetchError(
      'unsupported_content',
      `Content type ${essence} is binary and cannot be returned as text (from ${pageUrl})`,
    );
  } else {
    html = HTML_TYPES.has(essence);
  }
  const decoded = decodeBody(body, mediaType, html);
  if (html && !raw) return { html: decoded.text, mediaType: essence, charset: decoded.charset };
  const rawPrefix = `Content type ${contentTypeHeader ?? ''} cannot be simplified to markdown, but here is the raw content:\n`;
  let text = decoded.text;
  if (!raw && isJson(essence)) {
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not valid JSON: return it as sent
    }
  }
  return { rendered: { text, prefix: rawPrefix, mediaType: essence, charset: decoded.charset } };
}

function simplified(page: { mediaType: string; charset: string }, { markdown }: Simplified): RenderedContent {
  const text = markdown || '<error>Page failed to be simplified from HTML</error>';
  return { text, prefix: '', mediaType: page.mediaType, charset: page.charset };
}

/**
 * Turns a response body into the text the tool returns. HTML is decoded with
 * its charset and, unless `raw`, simplified to Markdown (on this thread; the
 * tool uses {@link renderContentWith} and a worker). JSON is pretty-printed
 * (unless `raw`). Other textual types pass through. Binary types are refused.
 *
 * @throws {FetchError} `unsupported_content` for binary media types.
 */
export function renderContent(
  body: Uint8Array,
  contentTypeHeader: string | undefined,
  pageUrl: string,
  raw: boolean,
): RenderedContent {
  const page = prepare(body, contentTypeHeader, pageUrl, raw);
  return page.rendered ?? simplified(page, htmlToMarkdown(page.html, pageUrl));
}

/**
 * {@link renderContent} with HTML converted by `convert` (the fetch tool passes its worker pool).
 *
 * @throws {FetchError} `unsupported_content` for binary media types, and whatever `convert` throws.
 */
export async function renderContentWith(
  convert: HtmlConverter,
  body: Uint8Array,
  contentTypeHeader: string | undefined,
  pageUrl: string,
  raw: boolean,
): Promise<RenderedContent> {
  const page = prepare(body, contentTypeHeader, pageUrl, raw);
  return page.rendered ?? simplified(page, await convert(page.html, pageUrl));
}
