import { randomBytes } from 'node:crypto';

/**
 * Failure modes shared by the stub identity providers. The object is mutable:
 * tests flip a fault on, make a request, and flip it off again.
 */
export interface StubFaults<E extends string> {
  /** The user clicks "deny": authorize redirects back with `error=access_denied`. */
  deny?: boolean;
  /** Answer the endpoint with this HTTP status (e.g. 502) and a small HTML body, like a proxy in trouble. */
  status?: Partial<Record<E, number>>;
  /** Wait this many milliseconds before answering the endpoint. */
  delayMs?: Partial<Record<E, number>>;
}

/** One request seen by a stub, for assertions (`requests.filter(...)`). */
export interface StubRequestLog {
  method: string;
  path: string;
  /** The `Authorization` header, when sent. */
  authorization?: string;
  at: number;
}

/** 256 bits of randomness, base64url. */
export function randomToken(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Reads an `application/x-www-form-urlencoded` body (empty params for anything else). */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(await request.text());
}

/** Parses `Authorization: Basic` into client id and secret (RFC 6749 §2.3.1 form-decoding). */
export function parseBasicAuth(header: string | null): { id: string; secret: string } | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, i).replaceAll('+', ' ')),
      secret: decodeURIComponent(decoded.slice(i + 1).replaceAll('+', ' ')),
    };
  } catch {
    return undefined;
  }
}

/** Extracts a bearer token (`Bearer x` or GitHub's legacy `token x`). */
export function bearerToken(header: string | null): string | undefined {
  const m = /^(?:bearer|token)\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

/** Applies the configured delay and status fault for `endpoint`; returns a response when the fault answers. */
export async function applyFaults<E extends string>(
  faults: StubFaults<E>,
  endpoint: E,
): Promise<Response | undefined> {
  const delay = faults.delayMs?.[endpoint];
  if (delay) await new Promise((r) => setTimeout(r, delay));
  const status = faults.status?.[endpoint];
  if (status) {
    return new Response(`<html><body><h1>${status} stub fault</h1></body></html>`, {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8' },
    });
  }
  return undefined;
}

/** A 302 to `location`. */
export function redirect(location: string | URL): Response {
  return new Response(null, {
    status: 302,
    headers: { location: String(location), 'cache-control': 'no-store' },
  });
}

/** A small HTML page. */
export function html(body: string, status = 200): Response {
  return new Response(
    `<!doctype html><html><head><meta charset="utf-8"><title>stub</title></head><body>${body}</body></html>`,
    {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8' },
    },
  );
}

/** SHA-256 of `verifier`, base64url: the PKCE S256 transform (RFC 7636 §4.2). */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return Buffer.from(digest).toString('base64url');
}
