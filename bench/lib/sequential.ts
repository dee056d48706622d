// c=1 without a load generator's own cost: one keep-alive socket, each POST written when the
// answer to the previous one is complete. The client's work per call is building its bytes and
// finding the answer's end (Content-Length, or the last chunk of a chunked body), a few µs, so the
// time per call is the server's latency rather than the load generator's: on a 2-core machine
// autocannon's per-request work (it rebuilds every request that carries a new body) shares the
// cores with the server it measures, and costs more for larger requests.
import net from 'node:net';

/**
 * Time per call of `count` sequential POSTs to `url` with `headers`, request i's body `body(i)`;
 * each call's µs (request written to answer complete) is pushed to `latencies` when given.
 */
export async function sequentialPosts(
  url: string,
  headers: Record<string, string>,
  body: (id: number) => string,
  count: number,
  latencies?: number[],
): Promise<{ usPerCall: number; perSecond: number }> {
  const u = new URL(url);
  const head = Object.entries({ host: u.host, ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const request = (id: number) => {
    const b = body(id);
    return `POST ${u.pathname} HTTP/1.1\r\n${head}content-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
  };
  const sock = net.connect(Number(u.port), u.hostname);
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  let buf = '';
  let done = 0;
  const t0 = performance.now();
  let sent = t0;
  await new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const he = buf.indexOf('\r\n\r\n');
        if (he < 0) return;
        if (!buf.startsWith('HTTP/1.1 200')) return reject(new Error(`answered ${buf.slice(0, 200)}`));
        const length = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, he));
        let end: number;
        if (length) end = he + 4 + Number(length[1]);
        else {
          const last = buf.indexOf('\r\n0\r\n\r\n', he);
          if (last < 0) return;
          end = last + 7;
        }
        if (buf.length < end) return;
        buf = buf.slice(end);
        if (latencies) {
          const now = performance.now();
          latencies.push((now - sent) * 1000);
          sent = now;
        }
        if (++done === count) return resolve();
        sock.write(request(done + 1));
      }
    });
    sock.write(request(1));
  });
  const ms = performance.now() - t0;
  sock.destroy();
  return { usPerCall: (ms * 1000) / count, perSecond: (count / ms) * 1000 };
}
