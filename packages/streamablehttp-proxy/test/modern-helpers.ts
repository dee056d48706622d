/** Raw MCP 2026-07-28 requests for bridge tests. */

export const V2026 = '2026-07-28';

/** A `_meta` envelope; `extra` adds or replaces keys. */
export function envelope(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': V2026,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-2026', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
    ...extra,
  };
}

let nextId = 1;

/**
 * One 2026-07-28 POST as a spec-following client sends it: `_meta` envelope
 * (unless `params._meta` is given), `MCP-Protocol-Version`, `Mcp-Method`,
 * `Mcp-Name`. `headers` override them (a `null` value drops one).
 */
export function send2026(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string | null> = {},
  init: { signal?: AbortSignal; id?: number | string } = {},
): Promise<Response> {
  const p: Record<string, unknown> = { ...params, _meta: params._meta ?? envelope() };
  const name = typeof p.name === 'string' ? p.name : typeof p.uri === 'string' ? p.uri : undefined;
  const h: Record<string, string | null> = {
    'content-type': 'application/json',
    accept: 'application/json',
    'mcp-protocol-version': V2026,
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
    ...headers,
  };
  const sent: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== null) sent[k] = v;
  return fetch(url, {
    method: 'POST',
    headers: sent,
    body: JSON.stringify({ jsonrpc: '2.0', id: init.id ?? nextId++, method, params: p }),
    signal: init.signal,
  });
}

/** A JSON-RPC answer body. */
export interface RpcBody {
  id: unknown;
  result?: Record<string, unknown> & { content?: { text: string }[] };
  error?: { code: number; message: string; data?: unknown };
}

/** Sends and reads the JSON answer, with its status. */
export async function call2026(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string | null> = {},
): Promise<{ status: number; body: RpcBody; headers: Headers }> {
  const res = await send2026(url, method, params, headers);
  return { status: res.status, body: (await res.json()) as RpcBody, headers: res.headers };
}

/** Reads SSE `data:` messages from a response until it ends; `onMessage` sees each as it arrives. */
export async function readSse(res: Response, onMessage: (m: Record<string, unknown>) => void = () => {}) {
  const out: Record<string, unknown>[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) !== -1) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (!data) continue;
      const m = JSON.parse(data) as Record<string, unknown>;
      out.push(m);
      onMessage(m);
    }
  }
  return out;
}
