import {
  bearerHeaderGuard,
  verifyFunction,
  type AccessTokenSource,
  type RequireBearerOptions,
} from './require-bearer.js';
import { parseAuthorization, type ProofContext } from './presentation.js';
import { toMcpAuthInfo, type McpAuthInfo } from './mcp-verifier.js';

/** Options of the framework middlewares (`/express`, `/hono`) that guard an MCP endpoint. */
export interface BearerAuthOptions extends RequireBearerOptions {
  /**
   * Verifies a token: the {@link AuthorizationServer} itself (in this
   * process) or `createAccessTokenVerifier({ issuer })` (another process, by
   * the issuer's JWKS).
   */
  verifier: AccessTokenSource;
}

/** What a middleware decided: the SDK-shaped auth info, or the 401/403/503 response to send. */
export type BearerAuthResult = { ok: true; auth: McpAuthInfo } | { ok: false; response: Response };

/** A header check that yields the MCP SDK's `AuthInfo`; shared by the framework middlewares. */
export function bearerAuthCheck(
  options: BearerAuthOptions,
): (authorization: string | null | undefined, http?: ProofContext) => Promise<BearerAuthResult> {
  const guard = bearerHeaderGuard(verifyFunction(options.verifier), options);
  return async (authorization, http) => {
    const check = await guard(authorization, http);
    if (!check.ok) return check;
    // bearerHeaderGuard only succeeds with a well-formed header.
    const token = parseAuthorization(authorization)!.token;
    return { ok: true, auth: toMcpAuthInfo(token, check.token, options.resource) };
  };
}
