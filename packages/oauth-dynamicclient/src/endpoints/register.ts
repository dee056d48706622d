import type { Route, ServerContext } from '../context.js';
import type { Client, Registration } from '../clients/records.js';
import { bearerToken, readJsonObject } from '../http/body.js';
import { OAuthError } from '../http/errors.js';
import { noStoreJson } from '../http/responses.js';
import { rateLimitSource } from '../http/rate-limit.js';
import { hashSecret, verifySecret } from '../secrets.js';

/** The RFC 7591 §3.2.1 / RFC 7592 §3 client information response. */
export function clientInformation(
  ctx: ServerContext,
  client: Client,
  credentials: { clientSecret?: string; registrationAccessToken: string },
): Record<string, unknown> {
  return {
    client_id: client.client_id,
    ...(credentials.clientSecret ? { client_secret: credentials.clientSecret } : {}),
    ...(client.client_id_issued_at !== undefined ? { client_id_issued_at: client.client_id_issued_at } : {}),
    ...(client.secretHash ? { client_secret_expires_at: client.client_secret_expires_at } : {}),
    registration_access_token: credentials.registrationAccessToken,
    registration_client_uri: ctx.endpoint(`/register/${encodeURIComponent(client.client_id)}`),
    ...client.metadata,
  };
}

/** The registration response body for a fresh {@link Registration}. */
export const registrationResponse = (ctx: ServerContext, reg: Registration): Record<string, unknown> =>
  clientInformation(ctx, reg.client, reg);

/** 401 for a missing or wrong bearer token on registration endpoints (RFC 6750 §3). */
export function registrationTokenError(presented: boolean): OAuthError {
  return new OAuthError(
    'invalid_token',
    presented ? 'invalid or expired token' : 'a bearer token is required',
    {
      headers: {
        'www-authenticate': presented ? 'Bearer error="invalid_token"' : 'Bearer',
      },
    },
  );
}

/** Source label (client IP) for audit events. */
export const sourceOf = (ctx: ServerContext, request: Request, info: { remoteAddress?: string }): string =>
  ctx.options.rateLimitSource?.(request, info) ?? rateLimitSource(request, info, ctx.options.trustProxyHops);

/** `POST /register` (RFC 7591). */
export function registerRoutes(ctx: ServerContext): Route[] {
  if (!ctx.options.registration.enabled) return [];
  const configured = ctx.options.registration.initialAccessToken;
  const initialTokens =
    configured === undefined ? undefined : Array.isArray(configured) ? configured : [configured];
  const initialHashes = initialTokens ? Promise.all(initialTokens.map(hashSecret)) : undefined;

  return [
    {
      method: 'POST',
      path: `${ctx.issuerPath}/register`,
      cors: true,
      rateLimit: 'register',
      handler: async (request, ctx, { info }) => {
        if (initialHashes) {
          const token = bearerToken(request);
          if (!token) throw registrationTokenError(false);
          let ok = false;
          for (const h of await initialHashes) ok = (await verifySecret(token, h)) || ok;
          if (!ok) throw registrationTokenError(true);
        }
        const body = await readJsonObject(request, ctx.options.maxBodyBytes);
        const reg = await ctx.clients.register(body, { source: sourceOf(ctx, request, info) });
        return noStoreJson(registrationResponse(ctx, reg), 201);
      },
    },
  ];
}
