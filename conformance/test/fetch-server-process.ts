import { spawn } from 'node:child_process';
import path from 'node:path';
import { workspace } from './suite.js';

const bin = path.resolve(workspace, '../packages/fetch-server/bin/mcp-fetch-server.js');

/** A running `mcp-fetch-server` child (built dist, our Node) and its MCP URL. */
export interface FetchServerProcess {
  url: string;
  stop(): void;
}

/** Starts mcp-fetch-server on a free loopback port and resolves with the URL it logs. */
export function startFetchServer(): Promise<FetchServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /"msg":"listening","url":"([^"]+)"/.exec(seen);
      if (m) resolve({ url: m[1]!, stop: () => child.kill() });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`mcp-fetch-server exited (${code}) before listening: ${seen}`)),
    );
  });
}
