/**
 * DPoP (RFC 9449): sender-constrained tokens on the client side.
 *
 * One key pair per stored credentials record (MCP server + issuer), of the
 * first algorithm in {@link DPOP_ALGS} the authorization server lists (ES256
 * when it lists none), made with oauth4webapi's `generateKeyPair`; proofs are signed by
 * oauth4webapi's `DPoP()` handle, which also remembers the last `DPoP-Nonce`
 * per origin (authorization server and resource server alike).
 *
 * Key persistence: a non-extractable `CryptoKey` cannot be written anywhere,
 * and a key that lives only in memory would make the DPoP-bound refresh
 * token useless after a restart. So the private key is exported once, when
 * it is made, as a JWK into the credentials record (the file store writes it
 * mode 0600, next to the refresh token it protects), and imported back as a
 * non-extractable key when loaded: in memory the private key cannot be read
 * out again. Whoever can read the credentials file has the refresh token and
 * the key alike, which is the same exposure as a Bearer refresh token;
 * what DPoP still buys is that a token seen in flight (a log line, a proxy, a
 * compromised MCP server) cannot be replayed without the key.
 */
import * as oauth from 'oauth4webapi';
import type { FetchLike } from '../http/fetch.js';
import { StoredDPoPKeySchema, type StoredDPoPKey, type StoredTokens } from '../store/types.js';
import { REQUEST_DEADLINE, type DeadlineInit } from '../http/deadline.js';

/** The proof algorithm of keys this client makes when the authorization server lists none. */
export const DPOP_ALG = 'ES256';

/** The proof algorithms this client can make keys for, in the order it prefers them. */
export const DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256'] as const;

/** The algorithm of a new key for `as`: the first of {@link DPOP_ALGS} it lists, else ES256; `undefined` when it lists only others. */
export function dpopAlgorithm(
  as: Pick<oauth.AuthorizationServer, 'dpop_signing_alg_values_supported'>,
): string | undefined {
  const algs = as.dpop_signing_alg_values_supported;
  if (!Array.isArray(algs) || algs.length === 0) return DPOP_ALG;
  return DPOP_ALGS.find((a) => algs.includes(a));
}

/**
 * Whether DPoP is used: `true` always (even where the authorization server
 * does not advertise it), `false` never, `undefined` (default) when the
 * authorization server lists `dpop_signing_alg_values_supported`.
 */
export type DPoPMode = boolean | undefined;

/** Whether token requests at an authorization server with this metadata carry proofs. */
export function dpopWanted(
  mode: DPoPMode,
  as: Pick<oauth.AuthorizationServer, 'dpop_signing_alg_values_supported'>,
): boolean {
  if (mode !== undefined) return mode;
  const algs = as.dpop_signing_alg_values_supported;
  return Array.isArray(algs) && algs.length > 0 && dpopAlgorithm(as) !== undefined;
}

/** A token to present with the DPoP scheme (RFC 9449 §7.1), never as Bearer. */
export function isDPoPBound(tokens: Pick<StoredTokens, 'token_type'>): boolean {
  return tokens.token_type.toLowerCase() === 'dpop';
}

/** A fresh key pair of `alg` (one of {@link DPOP_ALGS}), exported once for storage (see the module comment). */
export async function createDPoPKey(alg: string = DPOP_ALG): Promise<StoredDPoPKey> {
  const pair = await oauth.generateKeyPair(alg, { extractable: true });
  const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  return StoredDPoPKeySchema.parse({ alg, jwk });
}

/** WebCrypto import parameters of each algorithm in {@link DPOP_ALGS}. */
const IMPORT: Record<string, EcKeyImportParams | RsaHashedImportParams> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  ES512: { name: 'ECDSA', namedCurve: 'P-521' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
};

/** The stored key as a pair: the private key non-extractable, the public one extractable (its JWK goes into proofs). */
export async function importDPoPKey(stored: StoredDPoPKey): Promise<CryptoKeyPair> {
  const algorithm = IMPORT[stored.alg];
  if (!algorithm) throw new Error(`unsupported DPoP key algorithm ${stored.alg}`);
  const {
    d: _d,
    p: _p,
    q: _q,
    dp: _dp,
    dq: _dq,
    qi: _qi,
    key_ops: _ops,
    ext: _ext,
    ...pub
  } = stored.jwk as JsonWebKey;
  const privateKey = await crypto.subtle.importKey('jwk', stored.jwk as JsonWebKey, algorithm, false, [
    'sign',
  ]);
  const publicKey = await crypto.subtle.importKey('jwk', pub, algorithm, true, ['verify']);
  return { privateKey, publicKey };
}

/**
 * The keys of one session: handles made once per key (so the nonce each
 * server last sent is remembered for every later request to its origin), and
 * a key made for a sign-in that is not stored yet.
 */
export class DPoPKeys {
  private readonly handles = new Map<string, Promise<oauth.DPoPHandle>>();
  private pending: StoredDPoPKey | undefined;

  constructor(readonly mode: DPoPMode) {}

  /** The proof handle of a stored key. */
  handle(key: StoredDPoPKey): Promise<oauth.DPoPHandle> {
    const id = `${key.alg}:${JSON.stringify([key.jwk.x, key.jwk.y, key.jwk.n])}`;
    let h = this.handles.get(id);
    if (!h) {
      h = importDPoPKey(key).then((pair) => oauth.DPoP({}, pair));
      this.handles.set(id, h);
    }
    return h;
  }

  /**
   * The key for a token request at `as`: the one stored for the record, else
   * a new one (kept until it is stored with the tokens); `undefined` when
   * DPoP is not used there.
   */
  async forTokenRequest(
    as: Pick<oauth.AuthorizationServer, 'dpop_signing_alg_values_supported'>,
    stored: StoredDPoPKey | undefined,
  ): Promise<{ key: StoredDPoPKey; handle: oauth.DPoPHandle } | undefined> {
    if (!dpopWanted(this.mode, as)) return undefined;
    // A pending key of an algorithm this server does not take is replaced.
    const alg = dpopAlgorithm(as) ?? DPOP_ALG;
    if (this.pending && this.pending.alg !== alg) this.pending = undefined;
    const key = stored ?? (this.pending ??= await createDPoPKey(alg));
    return { key, handle: await this.handle(key) };
  }

  /** The key made for a sign-in has been stored: the next sign-in of another record makes its own. */
  stored(key: StoredDPoPKey): void {
    if (this.pending === key) this.pending = undefined;
  }
}

/**
 * Runs a token request (RFC 9449 §8): when the authorization server answers
 * `use_dpop_nonce`, the handle has kept its `DPoP-Nonce`, and the request is
 * made once more with a fresh proof carrying it.
 */
export async function withDPoPNonceRetry<T>(
  dpop: oauth.DPoPHandle | undefined,
  request: () => Promise<T>,
): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (!dpop || !oauth.isDPoPNonceError(err)) throw err;
    return request();
  }
}

const urlOf = (input: string | URL | Request) =>
  new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);

/**
 * One request to a resource server with a DPoP-bound token (RFC 9449 §7):
 * `Authorization: DPoP <token>` and a fresh proof with `ath`, through
 * oauth4webapi's `protectedResourceRequest`. When the resource server asks
 * for a nonce (401 `use_dpop_nonce`, RFC 9449 §9) the request is sent once
 * more with a proof carrying it. Other challenges come back as the response.
 */
export async function dpopResourceRequest(
  dpop: oauth.DPoPHandle,
  token: string,
  input: string | URL | Request,
  init: RequestInit,
  fetchFn: FetchLike,
): Promise<Response> {
  const url = urlOf(input);
  const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const send = async () => {
    const headers = new Headers(init.headers);
    headers.delete('authorization');
    try {
      return await oauth.protectedResourceRequest(
        token,
        method,
        url,
        headers,
        (init.body ?? null) as oauth.ProtectedResourceRequestBody,
        {
          DPoP: dpop,
          [oauth.allowInsecureRequests]: true,
          [oauth.customFetch]: (u, options) =>
            fetchFn(u, {
              ...(options as RequestInit),
              redirect: init.redirect ?? 'follow',
              signal: init.signal ?? null,
              // The request deadline, for a deadline-aware fetch.
              [REQUEST_DEADLINE]: (init as DeadlineInit)[REQUEST_DEADLINE],
            } as RequestInit),
        },
      );
    } catch (err) {
      if (err instanceof oauth.WWWAuthenticateChallengeError) return { err, response: err.response };
      throw err;
    }
  };
  const first = await send();
  if (first instanceof Response) return first;
  if (!oauth.isDPoPNonceError(first.err)) return first.response;
  await first.response.body?.cancel().catch(() => {});
  const second = await send();
  return second instanceof Response ? second : second.response;
}
