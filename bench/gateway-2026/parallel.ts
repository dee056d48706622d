// One user's parallel calls: a batch of calls to a tool that waits (the fixture's `slow`), all at
// once, through one 2025 session against 2026-07-28 stateless calls of the same user. A session's
// child runs its requests at once; the user's 2026 children run shareable ones at once too
// (`stateless.maxSharedPerChild`), so the batch takes one wait, not one per call.
import { request2026 } from '@mcp-gateway/testkit';
import { median, withIds } from '../lib/autocannon.js';
import { sessionHeaders } from '../lib/session.js';

/** What a batch's calls ask for: the tool waits this long. */
const WAIT_MS = 100;

const ARGS = { name: 'slow', arguments: { ms: WAIT_MS } };
const legacyCall = withIds({ jsonrpc: '2.0', id: 0, method: 'tools/call', params: ARGS });
const modern = request2026('tools/call', ARGS);
const modernCall = withIds(modern.message);

/** One call; resolves with its HTTP status once the whole answer is read. */
async function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (res.ok && !text.includes(`slept ${WAIT_MS}ms`))
    throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
  return res.status;
}

/** Milliseconds per batch of each era: `rounds` alternating rounds of `width` calls at once. */
export async function parallelRounds(
  url: string,
  auth: Record<string, string>,
  sid: string,
  width: number,
  rounds: number,
): Promise<{ legacy: number[]; modern: number[]; waitMs: number; refused: number }> {
  const legacyHeaders = sessionHeaders(sid, auth);
  const modernHeaders = { ...modern.headers, ...auth };
  let refused = 0;
  let id = 0;
  const batch = async (legacy: boolean) => {
    const t = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: width }, () =>
        legacy
          ? post(url, legacyHeaders, legacyCall(`p${++id}`))
          : post(url, modernHeaders, modernCall(`p${++id}`)),
      ),
    );
    refused += statuses.filter((s) => s !== 200).length;
    return performance.now() - t;
  };
  await batch(true);
  await batch(false);
  const out = { legacy: [] as number[], modern: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [true, false] : [false, true];
    for (const legacy of order) (legacy ? out.legacy : out.modern).push(await batch(legacy));
  }
  return { ...out, waitMs: WAIT_MS, refused };
}

/** Prints {@link parallelRounds}' medians and their ratio. */
export function reportParallel(title: string, r: Awaited<ReturnType<typeof parallelRounds>>): void {
  console.log(title);
  console.log(
    `  2025 session ${median(r.legacy).toFixed(0)} ms per batch, 2026 stateless ${median(r.modern).toFixed(0)} ms ` +
      `(the tool waits ${r.waitMs} ms); ratio stateless/session ${(median(r.legacy) / median(r.modern)).toFixed(2)}` +
      (r.refused > 0 ? `; ${r.refused} calls refused` : ''),
  );
}
