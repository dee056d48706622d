// Readiness, the benchmarked gateway's config and 2025 session opening, shared by
// the suites that measure the gateway.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixtureMcpServerPath } from '@mcp-gateway/testkit';
import { INITIALIZE_BODY, MCP_ACCEPT, checkEchoCall } from './autocannon.js';

/** Writes `mcp-gateway.yaml` in `cwd`: `port` on 127.0.0.1, one stdio service `bench` running the testkit fixture. */
export function writeBenchGatewayConfig(cwd: string, port: number): void {
  writeFileSync(
    path.join(cwd, 'mcp-gateway.yaml'),
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'logging: { level: warn }',
      'services:',
      '  bench:',
      '    type: stdio',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(fixtureMcpServerPath)}]`,
      '    maxSessions: 200',
      '',
    ].join('\n'),
  );
}

/** Headers of a POST on 2025 session `sid`. */
export const sessionHeaders = (sid: string, auth: Record<string, string>): Record<string, string> => ({
  'content-type': 'application/json',
  accept: MCP_ACCEPT,
  'mcp-session-id': sid,
  'mcp-protocol-version': '2025-06-18',
  ...auth,
});

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
  const headers = sessionHeaders(sid, auth);
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
