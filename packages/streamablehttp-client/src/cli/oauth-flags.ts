/** The OAuth session the flags ask for: grant, client credentials, DPoP, callback, timeouts. */
import { UsageError } from '../errors.js';
import { parsePrivateKey } from '../oauth/private-key-jwt.js';
import { OAuthSession, type OAuthGrant, type OAuthSessionOptions } from '../oauth/session.js';
import { defaultStoreHome, FileTokenStore } from '../store/file.js';
import type { CliFlags } from './args.js';
import type { Context } from './context.js';
import { readCredentialsFile, readSmallFile, type CredentialsFile } from './credentials-file.js';

/** An integer flag in `[min, max]`, else a {@link UsageError}. */
export function intFlag(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

const GRANTS: Record<string, OAuthGrant> = {
  'authorization-code': 'authorization_code',
  'client-credentials': 'client_credentials',
  'id-jag': 'id_jag',
};

/** `--grant`, checked; `--workload-token` means the JWT-bearer grant. */
export function grantOf(flags: CliFlags): OAuthGrant {
  if (flags['workload-token']) {
    if (flags.grant && flags.grant !== 'jwt-bearer')
      throw new UsageError(`--workload-token uses the jwt-bearer grant, not ${JSON.stringify(flags.grant)}`);
    return 'jwt_bearer';
  }
  if (flags.grant === 'jwt-bearer') throw new UsageError('--grant jwt-bearer needs --workload-token FILE');
  const g = flags.grant ?? 'authorization-code';
  const grant = GRANTS[g];
  if (!grant)
    throw new UsageError(
      `--grant must be one of ${Object.keys(GRANTS).join(', ')}; got ${JSON.stringify(g)}`,
    );
  return grant;
}

/**
 * The client and IdP credentials: flags, then `--client-credentials-file`,
 * then (for the key) `--private-key`. Secrets are never logged.
 */
function credentialsOf(
  f: CliFlags,
): Pick<OAuthSessionOptions, 'staticClient' | 'privateKey' | 'identityProvider'> {
  const file: CredentialsFile = f['client-credentials-file']
    ? readCredentialsFile(f['client-credentials-file'])
    : {};
  const clientId = f['client-id'] ?? file.client_id;
  const clientSecret = f['client-secret'] ?? file.client_secret;
  if (clientSecret && !clientId) throw new UsageError('--client-secret needs --client-id');
  const out: Pick<OAuthSessionOptions, 'staticClient' | 'privateKey' | 'identityProvider'> = {};
  if (clientId)
    out.staticClient = { client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) };
  const alg = f['private-key-alg'] ?? file.signing_algorithm;
  if (f['private-key']) {
    out.privateKey = parsePrivateKey(
      readSmallFile(f['private-key'], '--private-key'),
      `--private-key ${f['private-key']}`,
      alg,
    );
  } else if (file.private_key_pem || file.private_key_jwk) {
    const jwk = file.private_key_jwk;
    const keyText = file.private_key_pem ?? (typeof jwk === 'string' ? jwk : JSON.stringify(jwk));
    out.privateKey = parsePrivateKey(keyText, '--client-credentials-file private key', alg);
  }
  if (out.privateKey && !clientId)
    throw new UsageError('a private key needs --client-id (or client_id in the credentials file)');
  const tokenEndpoint = f['idp-token-endpoint'] ?? file.idp_token_endpoint;
  const idpClientId = f['idp-client-id'] ?? file.idp_client_id;
  const subjectToken = f['idp-id-token'] ?? file.idp_id_token;
  if (tokenEndpoint || idpClientId || subjectToken) {
    const missing = [
      !tokenEndpoint && '--idp-token-endpoint',
      !idpClientId && '--idp-client-id',
      !subjectToken && '--idp-id-token',
    ].filter(Boolean);
    if (missing.length) throw new UsageError(`cross-app access also needs ${missing.join(', ')}`);
    if (!URL.canParse(tokenEndpoint!)) throw new UsageError('--idp-token-endpoint is not a URL');
    const idpSecret = f['idp-client-secret'] ?? file.idp_client_secret;
    out.identityProvider = {
      tokenEndpoint: tokenEndpoint!,
      clientId: idpClientId!,
      subjectToken: subjectToken!,
      ...(file.idp_issuer ? { issuer: file.idp_issuer } : {}),
      ...(idpSecret ? { clientSecret: idpSecret } : {}),
    };
  }
  return out;
}

/** Builds the OAuth session the flags ask for. */
export function makeSession(ctx: Context, interactive: boolean): OAuthSession {
  const f = ctx.flags;
  const opts: OAuthSessionOptions = {
    serverUrl: ctx.url,
    store: new FileTokenStore({ home: defaultStoreHome(ctx.io.env) }),
    interactive,
    logger: ctx.log,
    openBrowser: !f['no-browser'],
    onAuthorizationUrl: (u) => void ctx.io.stderr.write(`To sign in, open: ${u}\n`),
  };
  Object.assign(opts, credentialsOf(f));
  const grant = grantOf(f);
  if (grant !== 'authorization_code') opts.grant = grant;
  if (f['workload-token']) opts.workloadToken = { file: f['workload-token'] };
  if (f.dpop && f['no-dpop']) throw new UsageError('--dpop and --no-dpop exclude each other');
  if (f.dpop || f['no-dpop']) opts.dpop = Boolean(f.dpop);
  if (f['client-metadata-url']) opts.clientMetadataUrl = f['client-metadata-url'];
  if (f.scope) opts.scope = f.scope;
  const port = intFlag(f['callback-port'], 'callback-port', 1, 65535);
  if (port !== undefined) opts.callbackPort = port;
  const timeout = intFlag(f['auth-timeout'], 'auth-timeout', 1, 24 * 3600);
  if (timeout !== undefined) opts.authTimeoutMs = timeout * 1000;
  return new OAuthSession(opts);
}

/**
 * The session to use for MCP traffic: with `--oauth2` (may log in), or when
 * credentials for the URL are stored (refresh only), unless `--token` or an
 * `Authorization` header says otherwise.
 */
export async function trafficSession(ctx: Context): Promise<OAuthSession | undefined> {
  const fixed = ctx.flags.token || Object.keys(ctx.headers).some((k) => k.toLowerCase() === 'authorization');
  if (fixed) return undefined;
  if (ctx.flags.oauth2 || grantOf(ctx.flags) !== 'authorization_code') return makeSession(ctx, true);
  const session = makeSession(ctx, false);
  return (await session.credentials()) ? session : undefined;
}
