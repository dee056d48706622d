import type { Route, ServerContext } from '../context.js';
import { publicView } from '../clients/registry.js';
import type { StoredClient } from '../clients/records.js';
import { bearerToken, readJsonObject } from '../http/body.js';
import { invalidRequest } from '../http/errors.js';
import { empty, noStoreJson } from '../http/responses.js';
import { verifySecret } from '../secrets.js';
import { clientInformation, registrationResponse, registrationTokenError, sourceOf } from './register.js';

/** Fields a client MUST NOT send in an update (RFC 7592 §2.2). */
const forbiddenInUpdate = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

/**
 * Authenticates an RFC 7592 request. A missing client and a wrong token get
 * the same 401 after the same work, so client ids cannot be enumerated.
 */
async function authenticate(
  ctx: ServerContext,
  request: Request,
  clientId: string,
): Promise<[StoredClient, string]> {
  const token = bearerToken(request);
  if (!token) throw registrationTokenError(false);
  const record = await ctx.clients.checkRegistrationToken(clientId, token);
  if (!record) throw registrationTokenError(true);
  return [record, token];
}

/** `GET`, `PUT`, `DELETE /register/{client_id}` (RFC 7592). */
export function registrationManagementRoutes(ctx: ServerContext): Route[] {
  if (!ctx.options.registration.enabled) return [];
  const path = `${ctx.issuerPath}/register/:clientId`;
  const common = { path, cors: true, rateLimit: 'registrationManagement' } as const;
  return [
    {
      ...common,
      method: 'GET',
      handler: async (request, ctx, { params }) => {
        const [record, token] = await authenticate(ctx, request, params.clientId!);
        // The secret is stored hashed, so it cannot be returned; the token is the one just presented.
        return noStoreJson(clientInformation(ctx, publicView(record), { registrationAccessToken: token }));
      },
    },
    {
      ...common,
      method: 'PUT',
      handler: async (request, ctx, { params, info }) => {
        const [record] = await authenticate(ctx, request, params.clientId!);
        const body = await readJsonObject(request, ctx.options.maxBodyBytes);
        if (body.client_id !== record.client_id) {
          throw invalidRequest('client_id in the body must equal the client being updated');
        }
        for (const field of forbiddenInUpdate) {
          if (field in body) throw invalidRequest(`${field} must not be sent in an update (RFC 7592 §2.2)`);
        }
        if ('client_secret' in body) {
          const ok =
            typeof body.client_secret === 'string' &&
            (await verifySecret(body.client_secret, record.secretHash));
          if (!ok) throw invalidRequest('client_secret does not match the current secret');
        }
        const { client_id: _id, client_secret: _secret, ...metadata } = body;
        const reg = await ctx.clients.update(record.client_id, metadata, {
          source: sourceOf(ctx, request, info),
        });
        return noStoreJson(registrationResponse(ctx, reg));
      },
    },
    {
      ...common,
      method: 'DELETE',
      handler: async (request, ctx, { params, info }) => {
        const [record] = await authenticate(ctx, request, params.clientId!);
        await ctx.clients.delete(record.client_id, 'rfc7592', sourceOf(ctx, request, info));
        return empty(204);
      },
    },
  ];
}
