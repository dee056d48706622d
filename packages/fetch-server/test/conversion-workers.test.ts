import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversionPool, createFetchServer, fetchPage, FetchError, silentLogger } from '../src/index.js';
import { PKG_DIR } from './helpers/build.js';
import { callFetch, testCore, textOf } from './helpers/core.js';
import { boilerplatePage, MAIN_MARKER, slowToConvertPage, startSite } from './helpers/site.js';

let site: Awaited<ReturnType<typeof startSite>>;
beforeAll(async () => {
  site = await startSite();
});
afterAll(() => site.close());

const PAGE_URL = 'https://page.test/article';

/** The FetchError `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<FetchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof FetchError)) throw new Error(`expected a FetchError, got ${String(err)}`);
  return err;
}

/** A pool closed after the test. */
function pool(options: Partial<ConstructorParameters<typeof ConversionPool>[0]> = {}) {
  const p = new ConversionPool({ workers: 1, maxQueued: 4, timeoutMs: 10_000, ...options });
  pools.push(p);
  return p;
}
const pools: ConversionPool[] = [];
afterAll(() => Promise.all(pools.map((p) => p.close())));

describe('HTML is converted in worker threads', () => {
  it('a normal page still converts, in a worker', async () => {
    const core = testCore();
    try {
      expect(core.converter.threads).toBe(0);
      const text = textOf(await callFetch(core, { url: `${site.url}/article` }));
      expect(text).toContain(MAIN_MARKER);
      expect(text).not.toContain('NAVBOILERPLATE');
      expect(core.converter.threads).toBe(1);
    } finally {
      await core.close();
    }
  });

  it('the main thread keeps running while a slow page converts', async () => {
    const core = testCore();
    let ticker: NodeJS.Timeout | undefined;
    try {
      // Warm the worker up, so only the conversion itself is measured.
      await callFetch(core, { url: `${site.url}/article` });
      // The longest the event loop went without running a 5 ms interval timer.
      let last = performance.now();
      let longestStall = 0;
      const stalled = () => {
        const now = performance.now();
        longestStall = Math.max(longestStall, now - last);
        last = now;
      };
      ticker = setInterval(stalled, 5);
      const started = performance.now();
      const result = await callFetch(core, { url: `${site.url}/slow-to-convert` });
      stalled();
      const tookMs = performance.now() - started;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toMatch(/-\s+item/);
      // On this thread the conversion would stall the event loop for nearly all of it (about 2 s).
      expect(longestStall).toBeLessThan(tookMs / 2);
    } finally {
      clearInterval(ticker);
      await core.close();
    }
  });
});

describe('the conversion deadline', () => {
  it('past the deadline the tool answers an isError timeout result, suggesting raw', async () => {
    const core = testCore({ conversionTimeoutMs: 200 });
    try {
      const url = `${site.url}/slow-to-convert`;
      const result = await callFetch(core, { url });
      expect(result).toEqual({
        content: [
          {
            type: 'text',
            text: `Converting ${url} from HTML to Markdown took longer than 200 ms and was stopped; fetch it with raw: true to get the HTML as it is.`,
          },
        ],
        isError: true,
      });
      const err = await rejection(fetchPage(core, url, { raw: false, checkRobots: false }));
      expect(err.code).toBe('timeout');
      // raw skips the conversion.
      const raw = await callFetch(core, { url, raw: true, max_length: 100 });
      expect(raw.isError).toBeFalsy();
    } finally {
      await core.close();
    }
  });

  it('the worker that ran out of time is terminated and replaced: the next conversion works', async () => {
    const p = pool();
    const err = await rejection(p.convert(slowToConvertPage(), PAGE_URL, { timeoutMs: 200 }));
    expect(err.code).toBe('timeout');
    const next = await p.convert(boilerplatePage(), PAGE_URL);
    expect(next.markdown).toContain(MAIN_MARKER);
    // The stopped worker has exited; only its replacement is left.
    expect(p.threads).toBe(1);
  });

  it('a deadline per conversion overrides the pool default', async () => {
    const p = pool();
    const err = await rejection(p.convert(boilerplatePage(), PAGE_URL, { timeoutMs: 1 }));
    expect(err.code).toBe('timeout');
    expect((await p.convert(boilerplatePage(), PAGE_URL)).extracted).toBe(true);
  });

  it('a worker that cannot start fails its conversion instead of hanging it', async () => {
    const p = pool({ workerUrl: pathToFileURL(path.join(PKG_DIR, 'dist/no-such-worker.js')) });
    const err = await p.convert('<p>x</p>', PAGE_URL).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(FetchError);
    expect(String(err)).toMatch(/no-such-worker/);
  });

  it('aborting a running conversion fails it at once; its worker finishes the page and converts the next one (no restart)', async () => {
    const p = pool();
    // Warm up: the worker exists and has loaded the converter.
    expect((await p.convert('<p>warm</p>', PAGE_URL)).markdown).toBe('warm');
    expect(p.started).toBe(1);
    const controller = new AbortController();
    const running = p.convert(slowToConvertPage(), PAGE_URL, { signal: controller.signal });
    setImmediate(() => controller.abort());
    const started = performance.now();
    expect((await rejection(running)).code).toBe('aborted');
    // The page takes about 2 s to convert: the caller did not wait for it.
    expect(performance.now() - started).toBeLessThan(1000);
    // The next conversion waits for the same worker instead of a new one.
    const next = p.convert('<p>after</p>', PAGE_URL);
    expect(p.queued).toBe(1);
    expect((await next).markdown).toBe('after');
    expect([p.started, p.threads]).toEqual([1, 1]);

    // The deadline still bounds a cancelled page: past it the worker is terminated and replaced.
    const bounded = new AbortController();
    const slow = p.convert(slowToConvertPage(), PAGE_URL, { signal: bounded.signal, timeoutMs: 300 });
    setImmediate(() => bounded.abort());
    expect((await rejection(slow)).code).toBe('aborted');
    expect((await p.convert('<p>again</p>', PAGE_URL)).markdown).toBe('again');
    expect([p.started, p.threads]).toEqual([2, 1]);
  });
});

describe('the pool and its queue are bounded', () => {
  it('with one worker and one place in the queue, a third concurrent conversion is refused (busy)', async () => {
    const p = pool({ workers: 1, maxQueued: 1 });
    const first = p.convert(boilerplatePage(), PAGE_URL);
    const second = p.convert(boilerplatePage(), PAGE_URL);
    const third = await rejection(p.convert(boilerplatePage(), PAGE_URL));
    expect(third.code).toBe('busy');
    expect(third.message).toBe('The fetch server is busy converting pages (1 waiting); try again shortly.');
    expect(p.threads).toBe(1);
    expect(p.queued).toBe(1);
    expect((await first).markdown).toContain(MAIN_MARKER);
    expect((await second).markdown).toContain(MAIN_MARKER);
    expect(p.queued).toBe(0);
    // A place is free again.
    expect((await p.convert('<p>fourth</p>', PAGE_URL)).markdown).toBe('fourth');
  });

  it('through the tool: concurrent fetches beyond workers + queue get the busy result', async () => {
    const core = testCore({ conversionWorkers: 1, maxQueuedConversions: 0 });
    try {
      const results = await Promise.all(
        [1, 2, 3].map(() => callFetch(core, { url: `${site.url}/slow-to-convert`, max_length: 20 })),
      );
      const busy = results.filter((r) => r.isError);
      expect(busy.length).toBeGreaterThanOrEqual(1);
      for (const r of busy) expect(textOf(r)).toMatch(/^The fetch server is busy converting pages/);
      expect(results.some((r) => !r.isError)).toBe(true);
    } finally {
      await core.close();
    }
  });

  it('at most `workers` threads convert at once; they are reused', async () => {
    const p = pool({ workers: 2, maxQueued: 8 });
    await Promise.all(Array.from({ length: 6 }, () => p.convert(boilerplatePage(), PAGE_URL)));
    expect(p.threads).toBe(2);
    await p.convert('<p>x</p>', PAGE_URL);
    expect(p.threads).toBe(2);
  });
});

describe('no worker threads outlive the server', () => {
  it('after close every worker has exited, and a conversion still running fails (aborted)', async () => {
    const handler = createFetchServer({
      allowHosts: ['127.0.0.1'],
      ignoreRobotsTxt: true,
      logger: silentLogger,
      conversionWorkers: 2,
    });
    const core = handler.core;
    expect(textOf(await callFetch(core, { url: `${site.url}/article` }))).toContain(MAIN_MARKER);
    expect(core.converter.threads).toBe(1);
    // Two running, one waiting.
    const outcomes = [1, 2, 3].map(() => rejection(core.converter.convert(slowToConvertPage(), PAGE_URL)));
    expect([core.converter.threads, core.converter.queued]).toEqual([2, 1]);
    await handler.close();
    expect(core.converter.threads).toBe(0);
    for (const err of await Promise.all(outcomes)) expect(err.code).toBe('aborted');
    // Closed for good: nothing starts a thread again.
    expect((await rejection(core.converter.convert('<p>x</p>', PAGE_URL))).code).toBe('aborted');
    expect(core.converter.threads).toBe(0);
  });

  it('an idle worker does not keep a process alive that never closed the server', async () => {
    const script = `
      import { ConversionPool } from ${JSON.stringify(pathToFileURL(path.join(PKG_DIR, 'dist/index.js')).href)};
      const pool = new ConversionPool({ workers: 1, maxQueued: 1, timeoutMs: 10000 });
      const { markdown } = await pool.convert('<p>done</p>', 'https://page.test/');
      console.log(markdown, pool.threads);
    `;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fetch-idle-worker-')), 'idle.mjs');
    writeFileSync(file, script);
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 20_000 });
    expect(stdout).toBe('done 1\n');
  });
});
