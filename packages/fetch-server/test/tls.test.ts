import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resolver } from '../src/index.js';
import { callFetch, testCore, textOf } from './helpers/core.js';

let dir: string;
let cert: string;
let server: https.Server;
let port: number;
let proxy: http.Server;
let proxyUrl: string;
const seen: { servername: string | false | null; host: string | undefined }[] = [];
const tunnels: string[] = [];

beforeAll(async () => {
  // A throwaway self-signed certificate for pinned.test (real openssl child process).
  dir = mkdtempSync(path.join(os.tmpdir(), 'fetch-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=pinned.test',
      '-addext',
      'subjectAltName=DNS:pinned.test',
      '-days',
      '1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert }, (req, res) => {
    seen.push({ servername: (req.socket as TLSSocket).servername, host: req.headers.host });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('secret page over TLS');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  proxy = http.createServer();
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    tunnels.push(req.url ?? '');
    const [host, p] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(p), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
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
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  proxy.closeAllConnections();
  await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => proxy.close(r))]);
  rmSync(dir, { recursive: true, force: true });
});

const resolver: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

describe('tls: pinned connections keep SNI and certificate checks on the host name', () => {
  it('https to a pinned address sends SNI and Host for the name and verifies its certificate', async () => {
    seen.length = 0;
    const core = testCore({ allowHosts: ['127.0.0.0/8'], resolver, ca: [cert] });
    const result = await callFetch(core, { url: `https://pinned.test:${port}/` });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('secret page over TLS');
    expect(seen).toEqual([{ servername: 'pinned.test', host: `pinned.test:${port}` }]);
  });

  it('an untrusted certificate is refused', async () => {
    const core = testCore({ allowHosts: ['127.0.0.0/8'], resolver });
    const result = await callFetch(core, { url: `https://pinned.test:${port}/` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `Could not connect to pinned.test:${port}: TLS handshake failed (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    );
  });

  it('a certificate for another name is refused even though the IP is the same', async () => {
    const core = testCore({ allowHosts: ['127.0.0.0/8'], resolver, ca: [cert] });
    const result = await callFetch(core, { url: `https://other.test:${port}/` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `Could not connect to other.test:${port}: TLS handshake failed (ERR_TLS_CERT_ALTNAME_INVALID)`,
    );
  });

  it('through a proxy, the tunnel goes to the IP and TLS still verifies the name end to end', async () => {
    seen.length = 0;
    tunnels.length = 0;
    const core = testCore({ allowHosts: ['127.0.0.0/8'], resolver, ca: [cert], proxy: proxyUrl });
    const result = await callFetch(core, { url: `https://pinned.test:${port}/` });
    expect(textOf(result)).toContain('secret page over TLS');
    expect(tunnels).toEqual([`127.0.0.1:${port}`]);
    expect(seen).toEqual([{ servername: 'pinned.test', host: `pinned.test:${port}` }]);
  });
});
