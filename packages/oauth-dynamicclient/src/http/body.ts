import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import { bearerFromHeader } from '../resource/presentation.js';
import { OAuthError, invalidRequest, payloadTooLarge, unsupportedMediaType } from './errors.js';

/** The media type of a request, lower-cased, without parameters; `undefined` when absent. */
export function mediaType(request: Request): string | undefined {
  const raw = request.headers.get('content-type');
  if (!raw) return undefined;
  return raw.split(';')[0]!.trim().toLowerCase();
}

/**
 * Reads a request (or response) body up to `limit` bytes. A declared
 * `Content-Length` over the limit answers 413 before reading; a stream that
 * grows past it is cancelled and answers 413 too.
 */
export async function readBody(
  request: Pick<Request, 'headers' | 'body'>,
  limit: number,
): Promise<Uint8Array> {
  try {
    return (await readCappedBody(request, limit, () => payloadTooLarge(limit))) ?? new Uint8Array(0);
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw invalidRequest('could not read request body', { cause: err });
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidRequest('request body is not valid UTF-8');
  }
}

/**
 * Reads a JSON object body: 415 unless `Content-Type: application/json`, 413
 * over `limit`, 400 `invalid_request` when it does not parse or is not an object.
 */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  if (mediaType(request) !== 'application/json') throw unsupportedMediaType('application/json');
  const text = decodeUtf8(await readBody(request, limit));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest('request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Reads an `application/x-www-form-urlencoded` body into a record: 415 for
 * another type, 413 over `limit`, 400 `invalid_request` when a parameter is
 * repeated (RFC 6749 §3.1: parameters MUST NOT be included more than once).
 */
export async function readForm(request: Request, limit: number): Promise<Record<string, string>> {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') {
    throw unsupportedMediaType('application/x-www-form-urlencoded');
  }
  const text = decodeUtf8(await readBody(request, limit));
  return paramsToRecord(new URLSearchParams(text));
}

/** URLSearchParams → record, rejecting repeated parameters with `invalid_request`. */
export function paramsToRecord(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of params) {
    if (k in out) throw invalidRequest(`parameter "${k.slice(0, 64)}" is repeated`);
    out[k] = v;
  }
  return out;
}

/** Reads `Authorization: Bearer <token>`; `undefined` when absent or another scheme. */
export function bearerToken(request: Request): string | undefined {
  return bearerFromHeader(request.headers.get('authorization'));
}

/**
 * Reads `Authorization: Basic` client credentials (RFC 6749 §2.3.1: both
 * parts are form-urlencoded before base64). `undefined` when absent or
 * another scheme; `invalid_client`-worthy garbage gives `null`.
 */
export function basicCredentials(request: Request): { id: string; secret: string } | null | undefined {
  const header = request.headers.get('authorization');
  if (!header) return undefined;
  const m = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!m) return /^Basic\b/i.test(header) ? null : undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)),
    );
  } catch {
    return null;
  }
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return null;
  }
}
