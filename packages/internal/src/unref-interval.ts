/** `fn` every `ms` of wall time, never keeping the process alive; returns what stops it. */
export function unrefInterval(ms: number, fn: () => void): () => void {
  const timer = setInterval(fn, ms);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
