import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import { jsonError } from '../errors.js';

/** Largest MCP request body the gateway reads (413 above). */
export const MAX_MCP_BODY_BYTES = 4 * 1024 * 1024;
/** Largest admin API body. */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** A body over its cap (413). */
export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
}

/** A request body as UTF-8 text, at most `max` bytes ({@link BodyTooLarge} above); `''` without a body. */
export async function readText(request: Request, max: number): Promise<string> {
  const bytes = await readCappedBody(request, max, () => new BodyTooLarge());
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : '';
}

/**
 * The JSON body of an admin API request (at most {@link MAX_ADMIN_BODY_BYTES}), or the answer for
 * one that is too large (413) or not JSON (400), both `invalid_request`.
 */
export async function readAdminJson(request: Request): Promise<{ input: unknown } | { refusal: Response }> {
  try {
    return { input: JSON.parse(await readText(request, MAX_ADMIN_BODY_BYTES)) as unknown };
  } catch (err) {
    if (err instanceof BodyTooLarge) return { refusal: jsonError(413, 'invalid_request', 'body too large') };
    return { refusal: jsonError(400, 'invalid_request', 'body is not JSON') };
  }
}
