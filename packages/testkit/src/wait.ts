/**
 * Polls `url` until it answers with a status below 500 (any answer means the
 * server is listening), or throws after `timeoutMs`. A readiness check, not a sleep.
 */
export async function waitForUrl(
  url: string,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Response> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  const interval = opts.intervalMs ?? 50;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status < 500) return res;
      lastError = new Error(`status ${res.status}`);
      await res.body?.cancel();
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`waitForUrl(${url}) timed out: ${String(lastError)}`);
}

/** Resolves when `predicate()` is truthy, polling every `intervalMs`; throws after `timeoutMs`. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(opts.message ?? 'waitFor timed out');
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
