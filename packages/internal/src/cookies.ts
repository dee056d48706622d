/**
 * Every value the request's `Cookie` header carries under `name`, in the order sent (a browser
 * may send two cookies of one name, e.g. from different paths): callers take the first that
 * verifies.
 */
export function cookieValues(request: Request, name: string): string[] {
  const header = request.headers.get('cookie');
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i >= 0 && part.slice(0, i).trim() === name) out.push(part.slice(i + 1).trim());
  }
  return out;
}
