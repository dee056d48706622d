/**
 * An OAuth-protected MCP server that is not ours: the MCP SDK's
 * `mcpAuthRouter` + `requireBearerAuth` with its demo in-memory provider
 * (extended here with rotating refresh tokens and reuse detection, which the
 * demo lacks), AS and RS on one origin.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { DemoInMemoryAuthProvider } from '@modelcontextprotocol/sdk/examples/server/demoInMemoryOAuthProvider.js';
import {
  mcpAuthRouter,
  getOAuthProtectedResourceMetadataUrl,
} from '@modelcontextprotocol/sdk/server/auth/router.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidGrantError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { listenNode, type Listening } from '@mcp-gateway/testkit';
import { mcpHandler, type McpEndpoint, type McpHandlerOptions } from './mcp-server.js';

interface TokenData {
  token: string;
  clientId: string;
  expiresAt: number;
  scopes: string[];
  resource?: URL | undefined;
  type: string;
}

interface RefreshRecord {
  clientId: string;
  scopes: string[];
  resource: URL | undefined;
  used: boolean;
}

/** The SDK demo provider plus refresh-token rotation with reuse detection. */
export class RotatingProvider extends DemoInMemoryAuthProvider {
  readonly refreshTokens = new Map<string, RefreshRecord>();
  refreshGrants = 0;
  refreshReuse = 0;
  accessTtlSec = 3600;
  /** Every `resource` the token endpoint saw. */
  readonly resources: Array<string | undefined> = [];

  /** The demo's token table (private there). */
  private get tokenMap(): Map<string, TokenData> {
    return (this as unknown as { tokens: Map<string, TokenData> }).tokens;
  }

  private issue(clientId: string, scopes: string[], resource: URL | undefined): OAuthTokens {
    const token = randomUUID();
    this.tokenMap.set(token, {
      token,
      clientId,
      scopes,
      expiresAt: Date.now() + this.accessTtlSec * 1000,
      resource,
      type: 'access',
    });
    const refresh = randomUUID();
    this.refreshTokens.set(refresh, { clientId, scopes, resource, used: false });
    return {
      access_token: token,
      token_type: 'bearer',
      expires_in: this.accessTtlSec,
      scope: scopes.join(' '),
      refresh_token: refresh,
    };
  }

  override async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    verifier?: string,
    redirectUri?: string,
    resource?: URL,
  ) {
    this.resources.push(resource?.href);
    const t = await super.exchangeAuthorizationCode(client, code, verifier);
    const data = this.tokenMap.get(t.access_token)!;
    this.tokenMap.delete(t.access_token);
    return this.issue(client.client_id, data.scopes, data.resource);
  }

  override async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    _scopes?: string[],
    resource?: URL,
  ) {
    this.refreshGrants++;
    this.resources.push(resource?.href);
    const r = this.refreshTokens.get(refreshToken);
    if (!r || r.clientId !== client.client_id) throw new InvalidGrantError('unknown refresh token');
    if (r.used) {
      this.refreshReuse++;
      throw new InvalidGrantError('refresh token already used');
    }
    r.used = true;
    return this.issue(client.client_id, r.scopes, r.resource);
  }

  /** The demo throws a plain Error (→ 500) for unknown tokens; answer 401 invalid_token instead. */
  override async verifyAccessToken(token: string) {
    try {
      return await super.verifyAccessToken(token);
    } catch {
      throw new InvalidTokenError('Invalid or expired token');
    }
  }

  /** Makes every access token expired (server side). */
  expireAccessTokens(): void {
    for (const t of this.tokenMap.values()) t.expiresAt = Date.now() - 1000;
  }
}

export interface SdkOAuthServer extends Listening {
  issuer: string;
  mcpUrl: string;
  provider: RotatingProvider;
  endpoint: McpEndpoint;
  /** Counts of authorize requests. */
  authorizeHits: number;
  /**
   * The next `initialize` finds every token revoked (access tokens expired,
   * refresh tokens forgotten): it is answered 401 and the client must sign in
   * again, as after a server restart that also wants a fresh token.
   */
  revokeAtNextInitialize(): void;
}

/**
 * Starts the SDK's OAuth-protected MCP server. `requiredScopes` go into the
 * challenge; calling tool `stepUpTool` needs `stepUpScope` too (answered with
 * 403 `insufficient_scope`, as the MCP spec's step-up flow describes), and so
 * does opening the standalone GET stream without `streamScope`. A call
 * of tool `silentTool` (with a good token) gets an SSE answer stream that
 * never carries the answer.
 */
export async function startSdkOAuthServer(
  opts: {
    requiredScopes?: string[];
    stepUp?: { tool: string; scope: string };
    streamScope?: string;
    silentTool?: string;
    mcp?: McpHandlerOptions;
  } = {},
): Promise<SdkOAuthServer> {
  const provider = new RotatingProvider();
  const endpoint = mcpHandler(opts.mcp);
  const holder: { app?: express.Express } = {};
  const l = await listenNode((req, res) => holder.app!(req, res));
  const issuer = new URL(`${l.url}/`);
  const mcpUrl = new URL(`${l.url}/mcp`);
  let revokeAtInitialize = false;
  const out: SdkOAuthServer = {
    ...l,
    issuer: issuer.href,
    mcpUrl: mcpUrl.href,
    provider,
    endpoint,
    authorizeHits: 0,
    revokeAtNextInitialize: () => void (revokeAtInitialize = true),
  };
  const app = express();
  holder.app = app;
  app.use('/authorize', (_req, _res, next) => {
    out.authorizeHits++;
    next();
  });
  const noLimit = { rateLimit: false as const };
  app.use(
    mcpAuthRouter({
      provider,
      issuerUrl: issuer,
      resourceServerUrl: mcpUrl,
      scopesSupported: [
        'mcp:tools',
        ...(opts.stepUp ? [opts.stepUp.scope] : []),
        ...(opts.streamScope ? [opts.streamScope] : []),
      ],
      authorizationOptions: noLimit,
      clientRegistrationOptions: noLimit,
      tokenOptions: noLimit,
      revocationOptions: noLimit,
    }),
  );
  const requiredScopes = opts.requiredScopes ?? [];
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(mcpUrl);
  app.use(express.json());
  app.all(
    '/mcp',
    (req, _res, next) => {
      if (revokeAtInitialize && (req.body as { method?: string } | undefined)?.method === 'initialize') {
        revokeAtInitialize = false;
        provider.expireAccessTokens();
        provider.refreshTokens.clear();
      }
      next();
    },
    requireBearerAuth({ verifier: provider, requiredScopes, resourceMetadataUrl }),
    (req, res, next) => {
      const body = req.body as { method?: string; params?: { name?: string } } | undefined;
      const su = opts.stepUp;
      const needed =
        su && body?.method === 'tools/call' && body.params?.name === su.tool
          ? su.scope
          : req.method === 'GET' && !req.headers['last-event-id']
            ? opts.streamScope
            : undefined;
      if (needed && !req.auth?.scopes.includes(needed)) {
        const scope = [...new Set([...requiredScopes, ...(req.auth?.scopes ?? []), needed])].join(' ');
        res
          .status(403)
          .set(
            'WWW-Authenticate',
            `Bearer error="insufficient_scope", scope="${scope}", resource_metadata="${resourceMetadataUrl}", error_description="needs ${needed}"`,
          )
          .json({ error: 'insufficient_scope', error_description: `needs ${needed}` });
        return;
      }
      if (body?.method === 'tools/call' && body.params?.name === opts.silentTool) {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': open\n\n');
        return;
      }
      next();
    },
    (req, res) => void endpoint.handle(req, res),
  );
  return out;
}
