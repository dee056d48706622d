import { ClientError } from './errors.js';
import { fetchOrThrow, readTextLimited, summarizeBody, type FetchLike } from './http/fetch.js';
import {
  discoverAuthorizationServer,
  type AuthorizationServerMetadata,
} from './oauth/authorization-server.js';
import { checkBrowserUrl } from './oauth/browser-url.js';
import { probe, type ProbeResult } from './oauth/discovery.js';
import { discoverProtectedResource } from './oauth/protected-resource.js';

/** Outcome of one check: `fail` means a client cannot work, `warn` that some clients may not. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One line of the checklist. */
export interface DoctorCheck {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
}

/** The whole checklist. `ok` is false when any check failed. */
export interface DoctorReport {
  url: string;
  ok: boolean;
  checks: DoctorCheck[];
}

/** The Origin used for CORS checks unless another is given (the MCP Inspector's). */
export const DOCTOR_ORIGIN = 'http://localhost:6274';

/** Options of {@link doctor}. */
export interface DoctorOptions {
  fetch?: FetchLike;
  timeoutMs?: number;
  /**
   * Browser origin for the CORS checks (default {@link DOCTOR_ORIGIN}). The
   * other checks send no Origin, as native clients do, so a server that
   * allows no browser origin still passes them; CORS findings are warnings.
   */
  origin?: string;
}

const isJson = (ct: string | null, body: string) => {
  if (!ct?.toLowerCase().includes('json')) return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
};

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Checks a server's authorization setup the way a client meets it: the 401
 * challenge and its `resource_metadata`, RFC 9728 and RFC 8414 metadata
 * (reachable, consistent, issuer equal), PKCE S256, open registration, CORS,
 * JSON error bodies. Makes no change on the server (the registration probe is
 * a request the server must refuse).
 */
export async function doctor(url: string | URL, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const target = new URL(url);
  const fetchFn = opts.fetch ?? fetch;
  const checks: DoctorCheck[] = [];
  const add = (id: string, title: string, status: CheckStatus, detail: string) =>
    checks.push({ id, title, status, detail });
  const report = (): DoctorReport => ({
    url: target.href,
    ok: !checks.some((c) => c.status === 'fail'),
    checks,
  });

  let probed: ProbeResult;
  try {
    probed = await probe(target, { fetch: fetchFn, timeoutMs: opts.timeoutMs });
    add('reachable', 'server reachable', 'pass', `POST answered HTTP ${probed.status}`);
  } catch (err) {
    add('reachable', 'server reachable', 'fail', msg(err));
    return report();
  }

  if (probed.status >= 200 && probed.status < 300) {
    add(
      'challenge',
      '401 challenge',
      'pass',
      `no authorization required (HTTP ${probed.status}); nothing else to check`,
    );
    return report();
  }
  if (probed.status !== 401) {
    add(
      'challenge',
      '401 challenge',
      'fail',
      `expected 401 with WWW-Authenticate for an unauthenticated request, got HTTP ${probed.status} with ${summarizeBody(probed.contentType, probed.body)}`,
    );
    return report();
  }
  if (!probed.challenge) {
    add('challenge', '401 challenge', 'fail', 'HTTP 401 without a Bearer challenge in WWW-Authenticate');
  } else {
    add(
      'challenge',
      '401 challenge',
      'pass',
      `Bearer challenge${probed.challenge.scope ? ` (scope "${probed.challenge.scope}")` : ''}`,
    );
  }
  add(
    'json-errors',
    'JSON error bodies',
    isJson(probed.contentType, probed.body) ? 'pass' : 'warn',
    isJson(probed.contentType, probed.body)
      ? 'the 401 body is JSON'
      : `the 401 body is ${summarizeBody(probed.contentType, probed.body)} (${probed.contentType ?? 'no content type'}), not JSON`,
  );
  const pointer = probed.challenge?.resource_metadata;
  add(
    'resource-metadata-pointer',
    'resource_metadata in challenge',
    pointer ? 'pass' : 'warn',
    pointer ?? 'missing (RFC 9728 §5.1); clients must fall back to well-known URLs',
  );

  await checkCors(
    target,
    { fetch: fetchFn, timeoutMs: opts.timeoutMs, origin: opts.origin ?? DOCTOR_ORIGIN },
    add,
  );

  let issuer: string | undefined;
  try {
    const prm = await discoverProtectedResource(target, {
      fetch: fetchFn,
      challengeUrl: pointer,
      timeoutMs: opts.timeoutMs,
    });
    if (!prm) {
      add(
        'resource-metadata',
        'protected-resource metadata (RFC 9728)',
        'fail',
        'not found at the challenge URL or the well-known URLs',
      );
    } else {
      issuer = prm.metadata.authorization_servers[0];
      add(
        'resource-metadata',
        'protected-resource metadata (RFC 9728)',
        'pass',
        `${prm.url}: resource ${prm.metadata.resource}, authorization server ${issuer}`,
      );
      if (pointer && prm.url !== pointer) {
        add(
          'resource-metadata-pointer-works',
          'challenge URL serves the metadata',
          'fail',
          `${pointer} did not answer with metadata`,
        );
      }
    }
  } catch (err) {
    add('resource-metadata', 'protected-resource metadata (RFC 9728)', 'fail', msg(err));
  }
  if (!issuer) return report();

  let as: AuthorizationServerMetadata | undefined;
  try {
    const found = await discoverAuthorizationServer(issuer, { fetch: fetchFn, timeoutMs: opts.timeoutMs });
    as = found.metadata;
    add('authorization-server-metadata', 'authorization-server metadata (RFC 8414)', 'pass', found.url);
    add('issuer', 'issuer equality', 'pass', `metadata issuer is ${as.issuer}`);
  } catch (err) {
    if (err instanceof ClientError && err.code === 'issuer_mismatch') {
      add('authorization-server-metadata', 'authorization-server metadata (RFC 8414)', 'pass', 'found');
      add('issuer', 'issuer equality', 'fail', err.message);
    } else {
      add('authorization-server-metadata', 'authorization-server metadata (RFC 8414)', 'fail', msg(err));
    }
    return report();
  }

  const missing = (['authorization_endpoint', 'token_endpoint'] as const).filter((k) => !as[k]);
  // The one a sign-in would refuse to open (a scheme other than https:, http: off loopback) fails too.
  let unsafe: string | undefined;
  try {
    if (as.authorization_endpoint) checkBrowserUrl(as.authorization_endpoint, 'the authorization_endpoint');
  } catch (err) {
    unsafe = msg(err);
  }
  add(
    'endpoints',
    'authorization and token endpoints',
    missing.length || unsafe ? 'fail' : 'pass',
    missing.length
      ? `missing ${missing.join(', ')}`
      : (unsafe ?? `${as.authorization_endpoint}, ${as.token_endpoint}`),
  );
  const pkce = as.code_challenge_methods_supported ?? [];
  add(
    'pkce',
    'PKCE S256 advertised',
    pkce.includes('S256') ? 'pass' : 'fail',
    pkce.length
      ? `code_challenge_methods_supported: ${pkce.join(', ')}`
      : 'code_challenge_methods_supported is missing; MCP clients must refuse',
  );

  if (as.registration_endpoint) {
    try {
      const res = await fetchOrThrow(
        fetchFn,
        as.registration_endpoint,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          // Invalid on purpose (RFC 7591 §3.2.2): the server must refuse it, so nothing is registered.
          body: JSON.stringify({
            client_name: 'mcp-streamablehttp-client doctor probe',
            redirect_uris: ['not a uri'],
          }),
        },
        opts.timeoutMs,
      );
      const text = await readTextLimited(res).catch(() => '');
      const ct = res.headers.get('content-type');
      if (res.status === 400 && isJson(ct, text)) {
        const code = (JSON.parse(text) as { error?: unknown }).error;
        add(
          'registration',
          'dynamic client registration open',
          'pass',
          `${as.registration_endpoint} refused an invalid request with ${String(code)}`,
        );
      } else if (res.status === 401 || res.status === 403) {
        add(
          'registration',
          'dynamic client registration open',
          'fail',
          `${as.registration_endpoint} requires an initial access token (HTTP ${res.status})`,
        );
      } else if (res.status === 400) {
        add(
          'registration',
          'dynamic client registration open',
          'warn',
          `HTTP 400 with ${summarizeBody(ct, text)} instead of a JSON error (RFC 7591 §3.2.2)`,
        );
      } else if (res.status === 201) {
        add(
          'registration',
          'dynamic client registration open',
          'warn',
          'accepted a registration with an invalid redirect URI',
        );
      } else {
        add(
          'registration',
          'dynamic client registration open',
          'fail',
          `HTTP ${res.status} with ${summarizeBody(ct, text)}`,
        );
      }
    } catch (err) {
      add('registration', 'dynamic client registration open', 'fail', msg(err));
    }
  } else if (as.client_id_metadata_document_supported) {
    add(
      'registration',
      'client registration',
      'pass',
      'no dynamic registration, but Client ID Metadata Documents are supported',
    );
  } else {
    add(
      'registration',
      'client registration',
      'fail',
      'no registration_endpoint and no Client ID Metadata Document support; only pre-registered clients can log in',
    );
  }
  return report();
}

type AddCheck = (id: string, title: string, status: CheckStatus, detail: string) => void;

/**
 * The browser's view: is `origin` allowed, can it read the challenge, does the
 * preflight pass. Only warnings: native clients (Claude Desktop, the SDKs,
 * this CLI) send no Origin and are not affected.
 */
async function checkCors(
  target: URL,
  opts: { fetch: FetchLike; timeoutMs?: number; origin: string },
  add: AddCheck,
): Promise<void> {
  let withOrigin: ProbeResult;
  try {
    withOrigin = await probe(target, opts);
  } catch (err) {
    add('cors-origin', `CORS for ${opts.origin}`, 'warn', msg(err));
    return;
  }
  if (withOrigin.status !== 401) {
    add(
      'cors-origin',
      `CORS for ${opts.origin}`,
      'warn',
      `a request from ${opts.origin} got HTTP ${withOrigin.status} (${summarizeBody(withOrigin.contentType, withOrigin.body)}); browser clients from that origin cannot connect until the server allows it (native clients are not affected)`,
    );
    return;
  }
  add(
    'cors-origin',
    `CORS for ${opts.origin}`,
    'pass',
    `a request from ${opts.origin} gets the 401 challenge`,
  );
  // Browser-based clients need the challenge and the session id readable.
  const exposed = (withOrigin.headers.get('access-control-expose-headers') ?? '').toLowerCase();
  const exposesAll = exposed
    .split(',')
    .map((s) => s.trim())
    .includes('*');
  add(
    'cors-expose',
    'CORS exposes WWW-Authenticate',
    exposesAll || exposed.includes('www-authenticate') ? 'pass' : 'warn',
    exposed
      ? `Access-Control-Expose-Headers: ${exposed}`
      : 'no Access-Control-Expose-Headers on the 401; browser clients cannot read the challenge',
  );
  try {
    const pre = await fetchOrThrow(
      opts.fetch,
      target,
      {
        method: 'OPTIONS',
        headers: {
          origin: opts.origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,mcp-protocol-version,mcp-session-id',
        },
      },
      opts.timeoutMs,
    );
    await pre.body?.cancel();
    const allowOrigin = pre.headers.get('access-control-allow-origin');
    const allowHeaders = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    const okPre =
      pre.ok && allowOrigin && (allowHeaders.includes('*') || allowHeaders.includes('authorization'));
    add(
      'cors-preflight',
      'CORS preflight',
      okPre ? 'pass' : 'warn',
      okPre
        ? `HTTP ${pre.status}, allows ${allowHeaders}`
        : `preflight answered HTTP ${pre.status}${allowOrigin ? '' : ' without Access-Control-Allow-Origin'}`,
    );
  } catch (err) {
    add('cors-preflight', 'CORS preflight', 'warn', msg(err));
  }
}
