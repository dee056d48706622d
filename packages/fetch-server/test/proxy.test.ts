import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Resolver } from '../src/index.js';
import { callFetch, testCore, textOf } from './helpers/core.js';
import { startSite } from './helpers/site.js';

let site: Awaited<ReturnType<typeof startSite>>;
let proxy: http.Server;
let proxyUrl: string;
const connects: { authority: string; auth: string | undefined }[] = [];
let refuse = false;

beforeAll(async () => {
  site = await startSite();
  // A minimal CONNECT proxy: records what it was asked to reach, then splices sockets.
  proxy = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push({ authority: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (refuse) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host!.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    // Tear both sides down together (a half-closed tunnel would linger).
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://proxyuser:s3cret@127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await site.close();
});

const resolver: Resolver = async (hostname) =>
  hostname === 'pinned.test' ? [{ address: '127.0.0.1', family: 4 }] : Promise.reject(new Error('unknown'));

describe('proxy: CONNECT tunnels go to the checked address, so pinning holds', () => {
  it('the proxy is asked for the IP that was checked, not the host name; Host stays the name', async () => {
    connects.length = 0;
    refuse = false;
    const core = testCore({ allowHosts: ['127.0.0.0/8'], resolver, proxy: proxyUrl });
    const result = await callFetch(core, { url: `http://pinned.test:${site.port}/echo-headers` });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain(`"host": "pinned.test:${site.port}"`);
    expect(connects).toEqual([
      {
        authority: `127.0.0.1:${site.port}`,
        auth: `Basic ${Buffer.from('proxyuser:s3cret').toString('base64')}`,
      },
    ]);
  });

  it('the SSRF policy still applies before the proxy is contacted', async () => {
    connects.length = 0;
    const core = testCore({ allowHosts: [], resolver, proxy: proxyUrl });
    const result = await callFetch(core, { url: `http://pinned.test:${site.port}/` });
    expect(textOf(result)).toContain('pinned.test resolves to a non-public address');
    expect(connects).toEqual([]);
  });

  it('a proxy refusing the tunnel is a clear tool error', async () => {
    refuse = true;
    const core = testCore({ allowHosts: ['127.0.0.0/8'], resolver, proxy: proxyUrl });
    const result = await callFetch(core, { url: `http://pinned.test:${site.port}/text` });
    expect(result).toEqual({
      content: [
        {
          type: 'text',
          text: `Proxy refused to tunnel to pinned.test:${site.port}: HTTP 403`,
        },
      ],
      isError: true,
    });
    refuse = false;
  });
});
