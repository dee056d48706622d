/**
 * Whether a browser form post comes from another site: `Sec-Fetch-Site`
 * other than `same-origin`, or an `Origin` other than ours (`null`, sent by
 * some privacy settings, and absent headers pass: older browsers and
 * non-browser clients send neither, and the per-form CSRF token still has to
 * match). Checked before the body is read, so a refused post changes nothing.
 */
export function isCrossSitePost(request: Request, ownOrigin: string): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin') return true;
  const origin = request.headers.get('origin');
  return origin !== null && origin !== 'null' && origin !== ownOrigin;
}

/** Compares two short strings (CSRF tokens) without an early exit. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
