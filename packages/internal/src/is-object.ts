/** A JSON object: not `null`, not an array (what JSON-RPC `params`, `result` and `_meta` must be). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
