import type { GetPromptResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { FetchCore } from './core.js';
import { FetchError } from './errors.js';
import { fetchPage } from './tool.js';

/** The `fetch` prompt's description (as the official server has it). */
export const FETCH_PROMPT_DESCRIPTION = 'Fetch a URL and extract its contents as markdown';

/** The `fetch` prompt's arguments. */
export const fetchPromptArgs = { url: z.string().describe('URL to fetch') };

/**
 * Runs the `fetch` prompt: the page as one user message, or the refusal as
 * the message text (a limit refusal included). Never throws. A prompt is picked by the user, not the
 * model: like the official server, no robots.txt check.
 */
export async function runFetchPrompt(
  core: FetchCore,
  url: string,
  signal?: AbortSignal,
  caller?: string,
): Promise<GetPromptResult> {
  try {
    const page = await fetchPage(core, url, { raw: false, checkRobots: false, signal, caller });
    return {
      description: `Contents of ${url}`,
      messages: [{ role: 'user', content: { type: 'text', text: page.prefix + page.text } }],
    };
  } catch (err) {
    const message = err instanceof FetchError ? err.message : `Fetching ${url} failed unexpectedly`;
    return {
      description: `Failed to fetch ${url}`,
      messages: [{ role: 'user', content: { type: 'text', text: message } }],
    };
  }
}
