import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import { GatewayError, JsonRpcCode, jsonError } from '../errors.js';

/** Largest MCP request body the gateway reads (413 above). */
export const MAX_MCP_BODY_BYTES = 4 * 1024 * 1024;
/** Largest admin API body. */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** A body over its cap (413). */
export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
}

/** The JSON-RPC refusal of an MCP body over {@link MAX_MCP_BODY_BYTES} (413, -32600). */
export function mcpBodyTooLarge(): GatewayError {
  return new GatewayError(413, JsonRpcCode.InvalidRequest, `request body over ${MAX_MCP_BODY_BYTES} bytes`);
}

/** The JSON-RPC refusal of an MCP body that is not JSON (400, -32700). */
export function mcpBodyNotJson(): GatewayError {
  return new GatewayError(400, JsonRpcCode.ParseError, 'Parse error: the body is not JSON');
}

/** A request body as UTF-8 text, at most `max` bytes ({@link BodyTooLarge} above); `''` without a body. */
export async function readText(request: Request, max: number): Promise<string> {
  const bytes = await readCappedBody(request, max, () => new BodyTooLarge());
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : '';
}

/**
 * The text of an MCP request's body: the node edge's buffer when it read the body already (no
 * promise), else read from `request`. Over {@link MAX_MCP_BODY_BYTES} it throws (or rejects with)
 * {@link mcpBodyTooLarge}.
 */
export function mcpBodyText(request: Request, buffered: Uint8Array | undefined): string | Promise<string> {
  if (!buffered) {
    return readText(request, MAX_MCP_BODY_BYTES).catch((err: unknown) => {
      throw err instanceof BodyTooLarge ? mcpBodyTooLarge() : err;
    });
  }
  if (buffered.byteLength > MAX_MCP_BODY_BYTES) throw mcpBodyTooLarge();
  return Buffer.from(buffered.buffer, buffered.byteOffset, buffered.byteLength).toString('utf8');
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
