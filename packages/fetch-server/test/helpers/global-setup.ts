import { ensureBuilt } from './build.js';

/**
 * The tool converts HTML in a worker thread running `dist/html-worker.js` (a worker cannot load
 * the `.ts` sources on Node 20; see `htmlWorkerUrl`): build it first when stale or missing.
 */
export default function setup(): void {
  ensureBuilt();
}
