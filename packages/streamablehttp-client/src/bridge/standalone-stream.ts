/**
 * The standalone GET stream (MCP Streamable HTTP: server→client messages
 * outside any request): waiting until the server has answered it.
 */
import { pausableTimeout, type Stopwatch } from '../http/deadline.js';
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
   * Resolves when the next standalone GET stream is answered, or once
   * `timeoutMs` have passed on `watch`. The transport opens that stream after
   * `notifications/initialized` without waiting for it; messages after it
   * wait, so the server has the stream before any request it answers with a
   * request or notification of its own outside that request's stream (the MCP
   * SDK server drops those when no GET stream is open), and a POST's resume
   * GET is never confused with the standalone one. Send the notification
   * under `watch.run`: an OAuth sign-in for it or for the GET stream (a 401,
   * a step-up) does not run the wait down.
   */
  next(): { done: Promise<void>; cancel: () => void; watch: Stopwatch } {
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const timeout = pausableTimeout(
      this.timeoutMs,
      () => {
        this.log.debug('the standalone GET stream was not answered in time; going on');
        settle();
      },
      true,
    );
    void done.finally(timeout.stop);
    this.waiters.push(settle);
    return {
      done,
      watch: timeout.watch,
      cancel: () => {
        const i = this.waiters.indexOf(settle);
        if (i >= 0) this.waiters.splice(i, 1);
        settle();
      },
    };
  }
}
