/**
 * The worker thread a `ConversionPool` (convert-pool.ts) runs: HTML to Markdown off the main thread, so a page
 * that takes long to convert holds up only this thread, which is terminated at its deadline. A
 * separate build entry (`dist/html-worker.js`), loaded by file URL next to the built module.
 */
import { parentPort } from 'node:worker_threads';
import { htmlToMarkdown, type Simplified } from './html-to-markdown.js';

/** One conversion, as posted to the worker. */
export interface ConversionRequest {
  html: string;
  pageUrl: string;
}

/** The worker's answer to one {@link ConversionRequest}. */
export type ConversionReply = { ok: true; result: Simplified } | { ok: false; error: string };

const port = parentPort;
if (!port) throw new Error('html-worker runs only as a worker thread (see ConversionPool)');
port.on('message', ({ html, pageUrl }: ConversionRequest) => {
  let reply: ConversionReply;
  try {
    reply = { ok: true, result: htmlToMarkdown(html, pageUrl) };
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
