import type { Logger } from '../log.js';
import type { Clock } from '../options.js';
import { NO_PARAM_HEADERS, toolParamHeaders, type ToolParamHeaders } from './param-headers.js';
import type { Ticker, Ticking } from './ticker.js';

/** The child's answer to one `tools/list` page. */
export type ToolListPage = { result: Record<string, unknown> } | { error: Record<string, unknown> };

/** What every child's {@link ToolDeclarations} shares. */
export interface ToolListing {
  clock: Clock;
  /** The shared deadline timer (on `clock`). */
  ticker: Ticker;
  logger: Logger;
  /** How long a read of the list (every page) may take before calls stop waiting for it, in ms. */
  timeoutMs: number;
}

/**
 * What a `tools/call` checks its `Mcp-Param-*` headers against: the declarations; a promise when
 * the first read is under way (it resolves with `undefined` if that read fails or runs past its
 * deadline); `undefined` when they cannot be known now (the last read failed: the call goes
 * unchecked).
 */
export type Declarations = ToolParamHeaders | Promise<ToolParamHeaders | undefined> | undefined;

/** Most `tools/list` pages read. */
const MAX_PAGES = 100;

/** The wait before a failed read is tried again, in ms; doubled per failure in a row, up to {@link MAX_RETRY_MS}. */
export const LIST_RETRY_MS = 1_000;
/** The longest wait before a failed read is tried again, in ms. */
export const MAX_RETRY_MS = 60_000;

/**
 * The `x-mcp-header` declarations of one child's tools (SEP-2243), read off
 * the request path: with `tools/list` (every page) as soon as the child is
 * initialized ({@link begin}), and again when it says its list changed.
 * At most one read runs at a time. A read that runs past `timeoutMs` stops
 * holding calls, yet its answer, when it comes, is kept. A read the child
 * answers with an error (or never answers before exiting) is tried again
 * after a back-off ({@link LIST_RETRY_MS}, doubling, at most {@link MAX_RETRY_MS}),
 * when a call needs the declarations; until one succeeds, calls are not
 * checked (the 2025 child never sees the headers: only the consistency
 * check is lost, and a warning says so). A child without the `tools`
 * capability is never asked and declares none.
 */
export class ToolDeclarations implements Ticking {
  tickerSlot: number | undefined = undefined;
  private known: ToolParamHeaders | undefined;
  /** `undefined` until {@link begin}; `false`: the child has no `tools` capability. */
  private hasTools: boolean | undefined;
  /** A read is under way (also one past its deadline whose answer is still awaited). */
  private reading = false;
  /** When the running read stops holding calls (clock time; `Infinity`: it no longer does). */
  private deadline = Infinity;
  /** Counts `list_changed` notifications: a read begun before one is read again. */
  private version = 0;
  /** Failed reads in a row. */
  private failures = 0;
  /** No read begins before this (clock time). */
  private retryAt = -Infinity;
  /** The last read failed or ran late: calls are not held for a read until one succeeds. */
  private unchecked = false;
  private waiters: ((known: ToolParamHeaders | undefined) => void)[] = [];

  constructor(
    /** Sends one `tools/list` request; resolves with the child's answer (an error when it exits). */
    private readonly listPage: (cursor: string | undefined) => Promise<ToolListPage>,
    private readonly cfg: ToolListing,
    private readonly pid: number,
  ) {}

  /** After the child's handshake: reads the list now, unless the child has no `tools` capability. */
  begin(hasTools: boolean): void {
    this.hasTools = hasTools;
    if (hasTools) this.read();
    else this.known = NO_PARAM_HEADERS;
  }

  /** The child sent `notifications/tools/list_changed`: read the list again (now, unless backing off). */
  changed(): void {
    if (!this.hasTools) return;
    this.version++;
    this.known = undefined;
    if (!this.reading && this.cfg.clock.now() >= this.retryAt) this.read();
  }

  /** The declarations for a `tools/call` ({@link Declarations}); starts a read when one is due. */
  lookup(): Declarations {
    if (this.known) return this.known;
    if (!this.hasTools) return undefined;
    if (!this.reading && this.cfg.clock.now() >= this.retryAt) this.read();
    if (this.unchecked || !this.reading) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The shared ticker: a read past its deadline stops holding calls (its answer is still awaited). */
  tick(now: number): void {
    if (now < this.deadline) return;
    this.stopTiming();
    this.unchecked = true;
    this.cfg.logger.warn('modern child did not list its tools in time: tools/call goes unchecked', {
      pid: this.pid,
      timeoutMs: this.cfg.timeoutMs,
    });
    this.wake(undefined);
  }

  private read(): void {
    this.reading = true;
    const version = this.version;
    this.deadline = this.cfg.clock.now() + this.cfg.timeoutMs;
    this.cfg.ticker.add(this);
    this.pages().then(
      (tools) => this.listed(version, toolParamHeaders(tools)),
      (err: unknown) => this.failed(err),
    );
  }

  private async pages(): Promise<unknown[]> {
    const tools: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await this.listPage(cursor);
      if ('error' in r)
        throw new Error(`tools/list answered ${String(r.error.code)}: ${String(r.error.message)}`);
      if (Array.isArray(r.result.tools)) tools.push(...(r.result.tools as unknown[]));
      cursor = typeof r.result.nextCursor === 'string' ? r.result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return tools;
  }

  private listed(version: number, headers: ToolParamHeaders): void {
    this.stopTiming();
    this.reading = false;
    this.failures = 0;
    this.retryAt = -Infinity;
    // The list changed while it was read: read it again (calls waiting keep waiting).
    if (version !== this.version) return this.read();
    this.known = headers;
    if (this.unchecked) {
      this.unchecked = false;
      this.cfg.logger.info('modern child listed its tools: tools/call is checked again', { pid: this.pid });
    }
    this.cfg.logger.debug('modern child listed its tools', { pid: this.pid, declaring: headers.size });
    this.wake(headers);
  }

  private failed(err: unknown): void {
    this.stopTiming();
    this.reading = false;
    this.failures++;
    const retryInMs = Math.min(MAX_RETRY_MS, LIST_RETRY_MS * 2 ** (this.failures - 1));
    this.retryAt = this.cfg.clock.now() + retryInMs;
    this.unchecked = true;
    this.cfg.logger.warn('modern child could not list its tools: tools/call goes unchecked', {
      pid: this.pid,
      error: err instanceof Error ? err.message : String(err),
      retryInMs,
    });
    this.wake(undefined);
  }

  private stopTiming(): void {
    this.deadline = Infinity;
    this.cfg.ticker.delete(this);
  }

  private wake(known: ToolParamHeaders | undefined): void {
    for (const w of this.waiters.splice(0)) w(known);
  }
}
