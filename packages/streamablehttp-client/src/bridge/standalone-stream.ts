/**
 * The standalone GET stream (MCP Streamable HTTP: server→client messages
 * outside any request): waiting until the server has answered it.
 */
import type { Logger } from '../log.js';

/** Waiters for the next answer to the standalone GET stream. */
export class StandaloneStream {
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** The standalone GET stream was answered: every waiter goes on. */
  answered(): void {
    for (const settle of this.waiters.splice(0)) settle();
  }

  /**
   * Resolves when the next standalone GET stream is answered (or after
   * `timeoutMs`). The transport opens that stream after
   * `notifications/initialized` without waiting for it; messages after it
   * wait, so the server has the stream before any request it answers with a
   * request or notification of its own outside that request's stream (the MCP
   * SDK server drops those when no GET stream is open), and a POST's resume
   * GET is never confused with the standalone one.
   */
  next(): { done: Promise<void>; cancel: () => void } {
    let timer: NodeJS.Timeout | undefined;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
      timer = setTimeout(() => {
        this.log.debug('the standalone GET stream was not answered in time; going on');
        resolve();
      }, this.timeoutMs);
      timer.unref();
    }).finally(() => clearTimeout(timer));
    this.waiters.push(settle);
    return {
      done,
      cancel: () => {
        const i = this.waiters.indexOf(settle);
        if (i >= 0) this.waiters.splice(i, 1);
        settle();
      },
    };
  }
}
