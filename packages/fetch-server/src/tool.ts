import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { renderContentWith } from './content/render.js';
import type { FetchCore } from './core.js';
import { FetchError } from './errors.js';
import { loggableUrl } from './log.js';
import { parseFetchUrl } from './ssrf/url-policy.js';

/** Upper bound of `max_length` (characters). */
export const MAX_LENGTH_LIMIT = 1_000_000;

/** The `fetch` tool's arguments, compatible with the official fetch server. */
export const fetchToolInput = {
  url: z.string().min(1).describe('URL to fetch'),
  max_length: z
    .number()
    .int()
    .positive()
    .max(MAX_LENGTH_LIMIT)
    .default(5000)
    .describe('Maximum number of characters to return.'),
  start_index: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe(
      'On return output, start returning output starting at this index, useful if a previous fetch was truncated and more context is required.',
    ),
  raw: z
    .boolean()
    .default(false)
    .describe('Get the actual HTML content of the requested page, without simplification.'),
};

/** Parsed `fetch` arguments. */
export interface FetchToolArgs {
  url: string;
  max_length: number;
  start_index: number;
  raw: boolean;
}

/** The tool description (the official server's, plus what this one refuses). */
export const FETCH_TOOL_DESCRIPTION = `Fetches a URL from the internet and optionally extracts its contents as markdown.

Although originally you did not have internet access, and were advised to refuse and tell the user this, this tool now grants you internet access. Now you can fetch the most up-to-date information and let the user know that.

Addresses inside private networks, robots.txt-disallowed pages and binary files are refused.`;

/** The tool's annotations: it only reads, and reaches the open web. */
export const FETCH_TOOL_ANNOTATIONS = { title: 'Fetch', readOnlyHint: true, openWorldHint: true };

/**
 * Cuts `content` to `[start, start + maxLength)` in Unicode code points (as
 * the official Python server does), appending the official continuation line
 * when more remains.
 */
export function paginate(content: string, start: number, maxLength: number): string {
  const points = Array.from(content);
  if (start >= points.length) return '<error>No more content available.</error>';
  const chunk = points.slice(start, start + maxLength);
  let text = chunk.join('');
  const remaining = points.length - (start + chunk.length);
  if (chunk.length === maxLength && remaining > 0) {
    text += `\n\n<error>Content truncated. Call the fetch tool with a start_index of ${start + chunk.length} to get more content.</error>`;
  }
  return text;
}

/** Result of {@link fetchPage}: the text and its prefix line. */
export interface FetchedPage {
  url: URL;
  text: string;
  prefix: string;
}

let anonymousCalls = 0;

/**
 * Fetches one page through the SSRF-safe fetcher (with robots.txt checks on
 * every hop unless disabled) and renders it as text. The fetch holds one of
 * `core.limiter`'s slots for `caller` (a fresh key when absent: then only the
 * overall bound applies) from before the first request until the body is in
 * and rendered, or the fetch failed, timed out or was aborted. HTML is converted in
 * `core.converter`'s worker threads (`timeout` past its deadline, `busy` when its queue is full).
 *
 * @throws {FetchError} for every refusal or failure (`busy` beyond a limit).
 */
export async function fetchPage(
  core: FetchCore,
  input: string,
  opts: { raw: boolean; checkRobots: boolean; signal?: AbortSignal; caller?: string },
): Promise<FetchedPage> {
  const url = parseFetchUrl(input);
  const robots = opts.checkRobots ? core.robots : undefined;
  const release = core.limiter.acquire(opts.caller ?? `call:${++anonymousCalls}`);
  try {
    const res = await core.fetcher(url, {
      signal: opts.signal,
      beforeHop: robots ? (hop) => robots.check(hop) : undefined,
    });
    if (res.status >= 400) {
      throw new FetchError('http_status', `Failed to fetch ${url.href} - status code ${res.status}`, {
        status: res.status,
      });
    }
    const ct = res.headers['content-type'];
    const convert = (html: string, pageUrl: string) =>
      core.converter.convert(html, pageUrl, { signal: opts.signal });
    const contentType = Array.isArray(ct) ? ct[0] : ct;
    const rendered = await renderContentWith(convert, res.body, contentType, res.url.href, opts.raw);
    return { url, text: rendered.text, prefix: rendered.prefix };
  } finally {
    release();
  }
}

/**
 * Runs the `fetch` tool: never throws; failures are `isError` results with a clear message.
 * `meta` is the request's `params._meta`, for {@link FetchCore.observeFetch};
 * `caller` keys the per-caller fetch limit (see {@link fetchPage}).
 */
export async function runFetchTool(
  core: FetchCore,
  args: FetchToolArgs,
  signal?: AbortSignal,
  meta?: Readonly<Record<string, unknown>>,
  caller?: string,
): Promise<CallToolResult> {
  const started = performance.now();
  const ended = core.observeFetch?.(meta, args.url);
  try {
    const page = await fetchPage(core, args.url, { raw: args.raw, checkRobots: true, signal, caller });
    ended?.({});
    const text = `${page.prefix}Contents of ${page.url.href}:\n${paginate(page.text, args.start_index, args.max_length)}`;
    core.logger.info('fetch', { url: loggableUrl(page.url), ms: Math.round(performance.now() - started) });
    return { content: [{ type: 'text', text }] };
  } catch (err) {
    const fe =
      err instanceof FetchError
        ? err
        : new FetchError('connect_failed', `Fetching ${args.url} failed unexpectedly`);
    ended?.({ error: fe.code, ...(fe.status !== undefined ? { status: fe.status } : {}) });
    core.logger.warn('fetch refused', {
      code: fe.code,
      url: URL.canParse(args.url) ? loggableUrl(new URL(args.url)) : undefined,
      // The operator's detail the caller does not get (see FetchError.address).
      ...(fe.address !== undefined ? { address: fe.address } : {}),
      ms: Math.round(performance.now() - started),
    });
    if (!(err instanceof FetchError)) core.logger.error('fetch internal error', { error: String(err) });
    return { content: [{ type: 'text', text: fe.message }], isError: true };
  }
}
