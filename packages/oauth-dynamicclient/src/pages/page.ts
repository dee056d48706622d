import type { SafeHtml } from './html.js';
import { document, pageResponse, type PageOptions } from './layout.js';

/** Options of {@link htmlPage}. */
export interface HtmlPageOptions extends Pick<PageOptions, 'css' | 'productName'> {
  /** HTTP status (default 200). */
  status?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/**
 * A page in the authorization server's look, for pages served beside it (a
 * gateway's landing or account page): the same document shell, styles and
 * headers (no caching, no framing, a CSP allowing no scripts and only this
 * response's nonce'd styles). Build `body` with the `html` tagged template,
 * which escapes every value.
 */
export function htmlPage(title: string, body: SafeHtml, options: HtmlPageOptions = {}): Response {
  const nonce = crypto.randomUUID().replace(/-/g, '');
  return pageResponse(document(title, body, nonce, options), nonce, options.status, options.headers);
}
