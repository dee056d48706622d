// Readiness and 2025 session opening, shared by the suites that measure sessions.
import { INITIALIZE_BODY, MCP_ACCEPT, checkEchoCall } from './autocannon.js';

/** Polls `url` until it answers below 500 (30 s at most). */
export async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}

/**
 * Opens a 2025 session at `url` (`initialize`, `notifications/initialized`),
 * checks one echo call on it, and returns its id. `check: false` skips the call.
 */
export async function openSession(
  url: string,
  auth: Record<string, string>,
  opts: { check?: boolean } = {},
): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: MCP_ACCEPT, ...auth },
    body: INITIALIZE_BODY,
  });
  const text = await res.text();
  const sid = res.headers.get('mcp-session-id');
  if (!res.ok || !sid) throw new Error(`initialize failed: ${res.status} ${text}`);
  const headers = {
    'content-type': 'application/json',
    accept: MCP_ACCEPT,
    'mcp-session-id': sid,
    'mcp-protocol-version': '2025-06-18',
    ...auth,
  };
  await (
    await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
  ).text();
  if (opts.check !== false) await checkEchoCall(url, { 'mcp-session-id': sid, ...auth });
  return sid;
}
