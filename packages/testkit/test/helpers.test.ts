import { afterAll, describe, expect, it } from 'vitest';
import {
  isPidAlive,
  killAllSpawned,
  listen,
  listenNode,
  request2026,
  spawnCli,
  waitFor,
  waitForUrl,
} from '../src/index.js';

afterAll(killAllSpawned);

describe('listen', () => {
  it('serves a fetch handler on 127.0.0.1 with an ephemeral port', async () => {
    const srv = await listen(async (req) =>
      Response.json({ path: new URL(req.url).pathname, body: await req.text() }),
    );
    try {
      expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${srv.url}/x?y=1`, { method: 'POST', body: 'hello' });
      expect(await res.json()).toEqual({ path: '/x', body: 'hello' });
    } finally {
      await srv.close();
    }
  });

  it('serves a node listener and refuses connections after close', async () => {
    const srv = await listenNode((_req, res) => res.end('ok'));
    expect(await (await fetch(srv.url)).text()).toBe('ok');
    await srv.close();
    await expect(fetch(srv.url)).rejects.toThrow();
  });
});

describe('waitForUrl', () => {
  it('throws when nothing listens', async () => {
    const srv = await listenNode((_req, res) => res.end('ok'));
    await srv.close();
    await expect(waitForUrl(srv.url, { timeoutMs: 300 })).rejects.toThrow(/timed out/);
  });
});

describe('spawnCli', () => {
  it('captures output, writes stdin and kills the whole process group', async () => {
    const cli = spawnCli(process.execPath, [
      '-e',
      `const { spawn } = require('node:child_process');
       const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
       console.log('grandchild ' + g.pid);
       process.stdin.on('data', (d) => console.log('echo ' + d.toString().trim()));`,
    ]);
    const [, gpid] = await cli.waitForOutput(/grandchild (\d+)/);
    cli.writeLine('ping');
    await cli.waitForOutput(/echo ping/);
    await cli.kill();
    await waitFor(() => !isPidAlive(Number(gpid)), { message: 'grandchild survived' });
    expect(isPidAlive(cli.pid)).toBe(false);
  });

  it('rejects waitForOutput when the process exits first', async () => {
    const cli = spawnCli(process.execPath, ['-e', 'console.log("bye")']);
    await expect(cli.waitForOutput(/never/)).rejects.toThrow(/exited before/);
    expect((await cli.exited).code).toBe(0);
  });
});

describe('request2026', () => {
  it('writes Mcp-Name as the packages do (Base64 for edge spaces and sentinel look-alikes, not only non-ASCII)', () => {
    const name = (n: string) => request2026('tools/call', { name: n }).headers['mcp-name'];
    expect(name('echo')).toBe('echo');
    expect(name(' padded ')).toBe('=?base64?IHBhZGRlZCA=?=');
    expect(name('=?base64?literal?=')).toBe('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=');
  });

  it("with the tool's inputSchema, mirrors its x-mcp-header arguments (nested ones too) into Mcp-Param-* headers", () => {
    const inputSchema = {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        target: { type: 'object', properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } } },
      },
    };
    const args = { region: 'Zürich', target: { zone: 'z' } };
    const { headers } = request2026('tools/call', { name: 'route', arguments: args }, { inputSchema });
    expect(headers).toMatchObject({ 'mcp-param-region': '=?base64?WsO8cmljaA==?=', 'mcp-param-zone': 'z' });
  });
});
