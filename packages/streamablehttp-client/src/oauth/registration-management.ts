import { AuthError, ServerError, UsageError } from '../errors.js';
import { fetchOrThrow, readTextLimited, summarizeBody, type FetchLike } from '../http/fetch.js';
import type { StoredClient } from '../store/types.js';

/** Fields a client must not send in an RFC 7592 update (§2.2). */
const SERVER_MANAGED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

/** Fields that are ours, not the server's. */
const LOCAL_ONLY = ['source'];

function endpointOf(client: StoredClient): { uri: string; token: string } {
  if (!client.registration_client_uri || !client.registration_access_token) {
    throw new UsageError(
      `client ${client.client_id} has no RFC 7592 registration access token (it was ${
        client.source === 'dcr' ? 'registered without one' : `configured as a ${client.source} client`
      })`,
    );
  }
  return { uri: client.registration_client_uri, token: client.registration_access_token };
}

async function call(
  fetchFn: FetchLike,
  client: StoredClient,
  method: 'GET' | 'PUT' | 'DELETE',
  body?: Record<string, unknown>,
): Promise<Response> {
  const { uri, token } = endpointOf(client);
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body) headers['content-type'] = 'application/json';
  const init: RequestInit = { method, headers };
  if (body) init.body = JSON.stringify(body);
  const response = await fetchOrThrow(fetchFn, uri, init);
  if (response.status === 401 || response.status === 403) {
    const text = await readTextLimited(response).catch(() => '');
    throw new AuthError(
      'invalid_token',
      `the authorization server rejected the registration access token for ${client.client_id} (HTTP ${response.status}${
        text ? `: ${summarizeBody(response.headers.get('content-type'), text)}` : ''
      }); the registration may have been deleted`,
    );
  }
  return response;
}

async function jsonBody(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await readTextLimited(response);
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === 'object' && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ServerError(
    `http_${response.status}`,
    `${what}: expected JSON client metadata, got HTTP ${response.status} with ${summarizeBody(response.headers.get('content-type'), text)}`,
    { status: response.status },
  );
}

function failIfNotOk(response: Response, text: string, what: string): never {
  let error: string | undefined;
  let description: string | undefined;
  try {
    const j = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof j.error === 'string') error = j.error;
    if (typeof j.error_description === 'string') description = j.error_description;
  } catch {
    // not JSON
  }
  if (error)
    throw new AuthError(
      error,
      `${what} failed: ${error}${description ? ` (${description})` : ''} [HTTP ${response.status}]`,
    );
  throw new ServerError(
    `http_${response.status}`,
    `${what} failed: HTTP ${response.status} with ${summarizeBody(response.headers.get('content-type'), text)}`,
    { status: response.status },
  );
}

/** RFC 7592 §2.1: reads the client's current configuration. */
export async function readClientConfiguration(
  fetchFn: FetchLike,
  client: StoredClient,
): Promise<Record<string, unknown>> {
  const response = await call(fetchFn, client, 'GET');
  if (response.status !== 200)
    failIfNotOk(response, await readTextLimited(response).catch(() => ''), 'reading the client');
  return jsonBody(response, 'reading the client');
}

/**
 * RFC 7592 §2.2: replaces the client's metadata with the current configuration
 * plus `changes` (the spec wants every field sent, server-managed ones left out).
 * A `null` value removes a field.
 */
export async function updateClientConfiguration(
  fetchFn: FetchLike,
  client: StoredClient,
  changes: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const current = await readClientConfiguration(fetchFn, client);
  const next: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  for (const k of [...SERVER_MANAGED, ...LOCAL_ONLY]) delete next[k];
  next.client_id = client.client_id;
  const response = await call(fetchFn, client, 'PUT', next);
  if (response.status !== 200)
    failIfNotOk(response, await readTextLimited(response).catch(() => ''), 'updating the client');
  return jsonBody(response, 'updating the client');
}

/** RFC 7592 §2.3: deletes the registration. */
export async function deleteClientConfiguration(fetchFn: FetchLike, client: StoredClient): Promise<void> {
  const response = await call(fetchFn, client, 'DELETE');
  if (response.status === 204 || response.status === 200) {
    await response.body?.cancel();
    return;
  }
  failIfNotOk(response, await readTextLimited(response).catch(() => ''), 'deleting the client');
}
