// bench/fetch: `fetch` tool calls per second and p50 latency on a local
// ~100 KB HTML page (served on 127.0.0.1, reached through the allow-list), and
// the share of that time spent turning HTML into Markdown (Readability +
// Turndown), measured on the same page on its own.
//
// Bounded: BENCH_DURATION seconds per autocannon run (default 10), BENCH_ITER
// interleaved call/conversion pairs (default 100). Traffic stays on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createFetchServer, htmlToMarkdown, silentLogger, toNodeListener } from '@mcp-gateway/fetch-server';
import { articlePage } from './page.js';
import { autocannon } from '../lib/autocannon.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ITER = Number(process.env.BENCH_ITER ?? 100);

function listen(listener: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(listener);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const html = articlePage();
  const page = Buffer.from(html);
  const site = await listen((req, res) => {
    if (req.url === '/robots.txt') {
      res.writeHead(404);
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
    res.end(page);
  });
  const handler = createFetchServer({ allowHosts: ['127.0.0.1'], logger: silentLogger });
  const mcp = await listen(toNodeListener(handler));
  const pageUrl = `${site.url}/article`;

  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'fetch', arguments: { url: pageUrl, max_length: 1_000_000 } },
  });
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-06-18',
  };

  // Sanity: one call must succeed and return the simplified page.
  const probe = await fetch(`${mcp.url}/mcp`, { method: 'POST', headers, body });
  const probeJson = (await probe.json()) as { result?: { isError?: boolean; content: { text: string }[] } };
  if (probe.status !== 200 || !probeJson.result || probeJson.result.isError) {
    throw new Error(`probe failed: ${probe.status} ${JSON.stringify(probeJson).slice(0, 300)}`);
  }
  const markdownChars = probeJson.result.content[0]!.text.length;

  // Share of HTML → Markdown: interleave one end-to-end call (HTTP POST →
  // MCP → fetch → render) with one conversion of the same page by the same
  // function the tool uses, so both see the same machine load.
  for (let i = 0; i < 10; i++) htmlToMarkdown(html, pageUrl); // warm-up
  const conv: number[] = [];
  const e2e: number[] = [];
  for (let i = 0; i < ITER; i++) {
    let t0 = performance.now();
    const res = await fetch(`${mcp.url}/mcp`, { method: 'POST', headers, body });
    await res.arrayBuffer();
    e2e.push(performance.now() - t0);
    t0 = performance.now();
    htmlToMarkdown(html, pageUrl);
    conv.push(performance.now() - t0);
  }
  conv.sort((a, b) => a - b);
  e2e.sort((a, b) => a - b);
  const convP50 = percentile(conv, 50);
  const e2eP50 = percentile(e2e, 50);

  const load = async (connections: number) =>
    autocannon({
      url: `${mcp.url}/mcp`,
      method: 'POST',
      headers,
      body,
      connections,
      duration: DURATION,
    });
  const c1 = await load(1);
  const c10 = await load(10);

  const share = (convP50 / e2eP50) * 100;
  console.log(
    `page: ${(page.length / 1024).toFixed(1)} KB HTML → ${(markdownChars / 1024).toFixed(1)} KB tool text`,
  );
  console.log(`node ${process.version}, ${DURATION}s per run, ${ITER} conversions`);
  console.table({
    'tools/call c=1': {
      'calls/s': Math.round(c1.requests.average),
      'p50 ms': c1.latency.p50,
      'p99 ms': c1.latency.p99,
      'non-2xx': c1.non2xx,
      errors: c1.errors,
    },
    'tools/call c=10': {
      'calls/s': Math.round(c10.requests.average),
      'p50 ms': c10.latency.p50,
      'p99 ms': c10.latency.p99,
      'non-2xx': c10.non2xx,
      errors: c10.errors,
    },
    'tools/call sequential (interleaved)': {
      'calls/s': Math.round(1000 / (e2e.reduce((a, b) => a + b, 0) / e2e.length)),
      'p50 ms': Number(e2eP50.toFixed(1)),
      'p99 ms': Number(percentile(e2e, 99).toFixed(1)),
      'non-2xx': 0,
      errors: 0,
    },
    'htmlToMarkdown alone (interleaved)': {
      'calls/s': Math.round(1000 / (conv.reduce((a, b) => a + b, 0) / conv.length)),
      'p50 ms': Number(convP50.toFixed(1)),
      'p99 ms': Number(percentile(conv, 99).toFixed(1)),
      'non-2xx': 0,
      errors: 0,
    },
  });
  console.log(
    `HTML→Markdown share of an end-to-end tool call (interleaved p50/p50): ${share.toFixed(0)}% ` +
      `(${convP50.toFixed(1)} of ${e2eP50.toFixed(1)} ms)`,
  );

  await handler.close();
  mcp.server.closeAllConnections();
  site.server.closeAllConnections();
  await Promise.all([new Promise((r) => mcp.server.close(r)), new Promise((r) => site.server.close(r))]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
