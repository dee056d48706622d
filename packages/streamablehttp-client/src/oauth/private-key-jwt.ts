/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core
 * §9): the client signs a short-lived assertion (iss = sub = client_id, aud =
 * the authorization server's issuer, jti, exp) with its private key.
 * oauth4webapi builds and signs the assertion; this module turns a key file
 * (PEM or JWK) into the `CryptoKey` it signs with and picks the algorithm.
 */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { UsageError } from '../errors.js';

/** A parsed private key, not yet bound to an algorithm. */
export interface PrivateKeyMaterial {
  /** The private key as a JWK (always with `d`). */
  jwk: JsonWebKey;
  /** `kid` from a JWK, sent in the assertion header. */
  kid?: string;
  /** Algorithm asked for (`--private-key-alg`, a JWK's `alg`, a credentials file's `signing_algorithm`). */
  alg?: string;
  /** Where it came from, for error messages (never the key itself). */
  source: string;
}

type ImportParams = EcKeyImportParams | RsaHashedImportParams | Algorithm;

const HASH = { '256': 'SHA-256', '384': 'SHA-384', '512': 'SHA-512' } as const;
const CURVE_ALG: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/**
 * Reads a private key: a JWK (JSON object with `d`) or PEM (PKCS#8, SEC1 `EC
 * PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`). Throws a {@link UsageError}
 * naming `source` when it is neither, or is a public key.
 */
export function parsePrivateKey(text: string, source: string, alg?: string): PrivateKeyMaterial {
  let jwk: JsonWebKey;
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      jwk = JSON.parse(trimmed) as JsonWebKey;
    } catch {
      throw new UsageError(`${source} is not valid JSON (expected a private JWK or a PEM key)`);
    }
  } else {
    try {
      jwk = createPrivateKey({ key: trimmed, format: 'pem' }).export({ format: 'jwk' });
    } catch (err) {
      throw new UsageError(
        `${source} is not a PEM private key or a JWK (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string' || typeof jwk.d !== 'string') {
    throw new UsageError(`${source} holds no private key (a JWK needs "kty" and "d")`);
  }
  const out: PrivateKeyMaterial = { jwk, source };
  const kid = (jwk as { kid?: unknown }).kid;
  if (typeof kid === 'string') out.kid = kid;
  const chosen = alg ?? (jwk as { alg?: unknown }).alg;
  if (typeof chosen === 'string') out.alg = chosen;
  return out;
}

/** The algorithms a key of this type can sign with, default first. */
function algorithmsFor(jwk: JsonWebKey): string[] {
  if (jwk.kty === 'EC') return CURVE_ALG[jwk.crv ?? ''] ? [CURVE_ALG[jwk.crv!]!] : [];
  if (jwk.kty === 'RSA') return ['RS256', 'PS256', 'RS384', 'PS384', 'RS512', 'PS512'];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return ['EdDSA', 'Ed25519'];
  return [];
}

function importParams(alg: string): ImportParams {
  const bits = alg.slice(2) as keyof typeof HASH;
  if (/^ES(256|384|512)$/.test(alg))
    return { name: 'ECDSA', namedCurve: bits === '512' ? 'P-521' : `P-${bits}` };
  if (/^RS(256|384|512)$/.test(alg)) return { name: 'RSASSA-PKCS1-v1_5', hash: HASH[bits] };
  if (/^PS(256|384|512)$/.test(alg)) return { name: 'RSA-PSS', hash: HASH[bits] };
  return { name: 'Ed25519' };
}

/**
 * Chooses the signing algorithm: the one asked for, else the key type's
 * default when the server accepts it (`token_endpoint_auth_signing_alg_values_supported`),
 * else the first the server lists that the key can sign with.
 */
export function chooseSigningAlgorithm(key: PrivateKeyMaterial, supported?: string[]): string {
  const possible = algorithmsFor(key.jwk);
  if (!possible.length) {
    throw new UsageError(
      `${key.source}: unsupported key type ${key.jwk.kty}${key.jwk.crv ? ` ${key.jwk.crv}` : ''} (use EC P-256/384/521, RSA or Ed25519)`,
    );
  }
  if (key.alg) {
    if (!possible.includes(key.alg))
      throw new UsageError(
        `${key.source}: a ${key.jwk.kty} key cannot sign ${key.alg} (possible: ${possible.join(', ')})`,
      );
    return key.alg;
  }
  if (!supported?.length || supported.includes(possible[0]!)) return possible[0]!;
  return possible.find((a) => supported.includes(a)) ?? possible[0]!;
}

/** oauth4webapi client authentication with a signed assertion (`private_key_jwt`). */
export async function privateKeyJwtAuth(
  key: PrivateKeyMaterial,
  supported?: string[],
): Promise<oauth.ClientAuth> {
  const alg = chooseSigningAlgorithm(key, supported);
  const { kty, crv, x, y, d, n, e, p, q, dp, dq, qi } = key.jwk;
  const bare = Object.fromEntries(
    Object.entries({ kty, crv, x, y, d, n, e, p, q, dp, dq, qi }).filter(([, v]) => v !== undefined),
  );
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey('jwk', bare, importParams(alg), false, ['sign']);
  } catch (err) {
    throw new UsageError(
      `${key.source}: cannot use the key for ${alg} (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return oauth.PrivateKeyJwt(key.kid ? { key: cryptoKey, kid: key.kid } : cryptoKey);
}
