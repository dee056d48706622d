import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { ClientError, NetworkError, ServerError } from '../errors.js';
import { describeFetchFailure, summarizeBody } from './fetch.js';

/**
 * Turns whatever the MCP SDK or fetch threw into a {@link ClientError} with a
 * message a person can act on (never a whole HTML page).
 */
export function toClientError(err: unknown, url: string): ClientError {
  if (err instanceof ClientError) return err;
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause instanceof ClientError) return cause;
  if (err instanceof StreamableHTTPError) {
    const code = err.code ?? -1;
    const detail = err.message.replace(/^Streamable HTTP error: /, '');
    if (code === -1) {
      const type = /Unexpected content type: (.*)$/.exec(detail)?.[1];
      return new ServerError(
        'not_mcp',
        `${url} is not an MCP Streamable HTTP endpoint: it answered with content type ${type ?? 'unknown'}`,
        {
          cause: err,
        },
      );
    }
    const body = detail
      .replace(/^Error POSTing to endpoint: /, '')
      .replace(/^Failed to open SSE stream: /, '');
    let what = summarizeBody(/^\s*</.test(body) ? 'text/html' : null, body);
    try {
      const j = JSON.parse(body) as { error?: { message?: unknown } };
      if (typeof j.error?.message === 'string') what = `JSON-RPC error "${j.error.message}"`;
    } catch {
      // not JSON
    }
    const hint =
      code === 404
        ? ' (is this the MCP endpoint URL?)'
        : code === 405
          ? ' (the server does not accept POST here: not an MCP endpoint?)'
          : '';
    return new ServerError(`http_${code}`, `${url} answered HTTP ${code} with ${what}${hint}`, {
      cause: err,
      status: code,
    });
  }
  if (err instanceof McpError) {
    return new ServerError(
      `jsonrpc_${err.code}`,
      `server error ${err.code}: ${err.message.replace(/^MCP error -?\d+: /, '')}`,
      { cause: err },
    );
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new NetworkError(`cannot reach ${url}: ${describeFetchFailure(err)}`, { cause: err });
  }
  if (err instanceof Error && (err.name === 'ZodError' || err instanceof SyntaxError)) {
    return new ServerError('not_mcp', `${url} did not answer with JSON-RPC: ${err.message.slice(0, 200)}`, {
      cause: err,
    });
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || /timed out/i.test(err.message))) {
    return new ServerError('timeout', `${url} did not answer in time: ${err.message}`, { cause: err });
  }
  return new ServerError('error', err instanceof Error ? err.message : String(err), { cause: err });
}
