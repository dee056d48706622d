/**
 * Typed errors. Every failure the client reports is a {@link ClientError} with
 * a `kind` (what went wrong, and so which exit code the CLI uses) and a `code`
 * (an OAuth error code, an HTTP-derived code, or one of ours).
 */
import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error-codes';

/** What kind of failure: the CLI maps each to its own exit code. */
export type FailureKind = 'auth' | 'server' | 'usage' | 'network';

/** Process exit codes of `mcp-streamablehttp-client`. */
export const EXIT_CODES = {
  ok: 0,
  /** The server answered, but with an error (HTTP error, JSON-RPC error, tool error, failed doctor check). */
  server: 1,
  /** Bad command line. */
  usage: 2,
  /** Authentication or authorization failed (discovery, registration, login, refresh, 401/403). */
  auth: 3,
  /** The server could not be reached at all. */
  network: 4,
} as const satisfies Record<'ok' | FailureKind, number>;

/** Base class of every error this package throws. */
export class ClientError extends Error {
  /** Failure kind; decides the exit code. */
  readonly kind: FailureKind;
  /** Machine-readable code: an OAuth `error` value, `http_<status>`, or one of ours. */
  readonly code: string;

  constructor(kind: FailureKind, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
  }

  /** Exit code for the CLI. */
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/** Authentication or authorization failed. `code` is the OAuth error code where there is one. */
export class AuthError extends ClientError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('auth', code, message, options);
  }
}

/** Authorization discovery failed or found metadata a client cannot use (RFC 9728 / RFC 8414). */
export class DiscoveryError extends AuthError {}

/**
 * A URL the client would open in a browser (or hand to the host to open) that it refuses: a scheme
 * other than `https:`, `http:` on a host that is not a loopback one (whatever `allowInsecure`
 * admits for OAuth requests), or a host name with characters no plain host has. Code
 * `unsafe_authorization_url`; thrown before any registration or browser opening.
 */
export class UnsafeUrlError extends DiscoveryError {
  /** The refused URL, as the server gave it. */
  readonly url: string;
  /** Why it is refused. */
  readonly reason: string;
  constructor(url: string, message: string, reason: string) {
    super('unsafe_authorization_url', message);
    this.url = url;
    this.reason = reason;
  }
}

/** The server answered, but not with what an MCP client needs. */
export class ServerError extends ClientError {
  /** HTTP status, when the failure was an HTTP answer. */
  readonly status: number | undefined;
  constructor(code: string, message: string, options?: { cause?: unknown; status?: number }) {
    super('server', code, message, options);
    this.status = options?.status;
  }
}

/** The server could not be reached (DNS, connection refused, TLS, timeout). */
export class NetworkError extends ClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('network', 'unreachable', message, options);
  }
}

/** The command line or options were wrong. */
export class UsageError extends ClientError {
  constructor(message: string) {
    super('usage', 'usage', message);
  }
}

/** JSON-RPC error codes the bridge answers with when it cannot forward a request. */
export const JSONRPC_ERRORS = {
  parseError: JSONRPC_ERROR_CODES.ParseError,
  invalidRequest: JSONRPC_ERROR_CODES.InvalidRequest,
  internalError: JSONRPC_ERROR_CODES.InternalError,
  /** The upstream server failed or could not be reached. */
  upstreamError: JSONRPC_ERROR_CODES.ServerError,
  /** Authorization with the upstream server failed. */
  unauthorized: JSONRPC_ERROR_CODES.Unauthorized,
} as const;
