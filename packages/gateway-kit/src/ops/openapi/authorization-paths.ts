import { form, html, jsonOf, oauthError, redirect } from './schemas.js';

/** Which optional routes the gateway serves. */
export interface AuthorizationPathOptions {
  /** The local identity provider's sign-in form (`/login`) is served. */
  localLogin: boolean;
  /** RFC 7591/7592 dynamic registration (`/register`) is served. */
  registration: boolean;
}

const clientAuth = [{}, { clientSecretBasic: [] }];
const registrationToken = [{ registrationAccessToken: [] }];
const clientIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const query = (name: string, required: boolean, description: string) => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string' },
});
const page = (summary: string, extra: Record<string, unknown> = {}) => ({
  summary,
  responses: {
    200: { description: 'HTML page', content: html },
    400: { description: 'HTML error page', content: html },
    ...extra,
  },
});

/**
 * The authorization-server routes (oauth-dynamicclient's router, mounted under
 * the issuer path `p`): RFC 8414 metadata, RFC 7591/7592 registration, the
 * OAuth 2.1 endpoints, ForwardAuth, JWKS and the browser pages of the flow.
 */
export function authorizationPaths(p: string, opts: AuthorizationPathOptions): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    [`/.well-known/oauth-authorization-server${p}`]: {
      get: {
        summary: 'RFC 8414 authorization-server metadata',
        responses: { 200: { description: 'metadata', content: jsonOf('AuthorizationServerMetadata') } },
      },
    },
    [`${p}/jwks`]: {
      get: {
        summary: 'JSON Web Key Set that verifies access tokens (RFC 7517)',
        responses: { 200: { description: 'public keys', content: jsonOf('JwkSet') } },
      },
    },
    [`${p}/register`]: {
      post: {
        summary: 'RFC 7591 dynamic client registration',
        requestBody: { required: true, content: jsonOf('ClientMetadata') },
        responses: {
          201: { description: 'registered client', content: jsonOf('ClientInformation') },
          400: oauthError('invalid_client_metadata or invalid_redirect_uri'),
          429: oauthError('too many registrations'),
        },
      },
    },
    [`${p}/register/{id}`]: {
      parameters: [clientIdParam],
      get: {
        summary: 'RFC 7592 read a registration',
        security: registrationToken,
        responses: {
          200: { description: 'client', content: jsonOf('ClientInformation') },
          401: oauthError('no or bad registration access token'),
        },
      },
      put: {
        summary: 'RFC 7592 update a registration',
        security: registrationToken,
        requestBody: { required: true, content: jsonOf('ClientInformation') },
        responses: {
          200: { description: 'client', content: jsonOf('ClientInformation') },
          400: oauthError('invalid metadata'),
          401: oauthError('no or bad registration access token'),
        },
      },
      delete: {
        summary: 'RFC 7592 delete a registration',
        security: registrationToken,
        responses: {
          204: { description: 'deleted' },
          401: oauthError('no or bad registration access token'),
        },
      },
    },
    [`${p}/authorize`]: {
      get: {
        summary: 'OAuth 2.1 authorization endpoint (PKCE S256, RFC 8707 resource)',
        parameters: [
          query('response_type', true, '`code`'),
          query('client_id', true, 'registered client id or client ID metadata document URL'),
          query('redirect_uri', true, 'one of the client’s redirect URIs'),
          query('code_challenge', true, 'PKCE S256 challenge'),
          query('code_challenge_method', true, '`S256`'),
          query('state', false, 'echoed to the client'),
          query('scope', false, 'space-separated scopes'),
          query('resource', false, 'RFC 8707 resource indicator: the MCP endpoint URL'),
        ],
        responses: {
          302: redirect('to sign-in, consent, or the client with a code or an error'),
          400: { description: 'HTML error page (no trustworthy redirect URI)', content: html },
        },
      },
    },
    [`${p}/token`]: {
      post: {
        summary: 'Token endpoint (authorization_code with PKCE, refresh_token)',
        security: clientAuth,
        requestBody: {
          required: true,
          content: form(['grant_type'], {
            grant_type: '`authorization_code` or `refresh_token`',
            code: 'authorization code',
            code_verifier: 'PKCE verifier',
            redirect_uri: 'as sent to /authorize',
            refresh_token: 'refresh token',
            client_id: 'public clients',
            client_secret: 'client_secret_post clients',
            resource: 'RFC 8707 resource indicator',
            scope: 'narrower scopes',
          }),
        },
        responses: {
          200: { description: 'tokens', content: jsonOf('TokenResponse') },
          400: oauthError('invalid_grant, invalid_request, …'),
          401: oauthError('invalid_client'),
        },
      },
    },
    [`${p}/revoke`]: {
      post: {
        summary: 'RFC 7009 token revocation',
        security: clientAuth,
        requestBody: {
          required: true,
          content: form(['token'], {
            token: 'token to revoke',
            token_type_hint: 'access_token or refresh_token',
          }),
        },
        responses: {
          200: { description: 'revoked (also for unknown tokens)' },
          401: oauthError('invalid_client'),
        },
      },
    },
    [`${p}/introspect`]: {
      post: {
        summary: 'RFC 7662 token introspection (confidential clients)',
        security: [{ clientSecretBasic: [] }],
        requestBody: {
          required: true,
          content: form(['token'], {
            token: 'token to inspect',
            token_type_hint: 'access_token or refresh_token',
          }),
        },
        responses: {
          200: { description: 'token state', content: jsonOf('Introspection') },
          401: oauthError('invalid_client'),
        },
      },
    },
    [`${p}/verify`]: Object.fromEntries(
      ['get', 'post'].map((m) => [
        m,
        {
          summary: 'ForwardAuth for Traefik, nginx auth_request and Caddy forward_auth',
          security: [{ bearer: [] }],
          responses: {
            200: { description: 'valid; X-User-Id, X-User-Name, X-Client-Id, X-Scopes headers' },
            401: oauthError('no or bad token; WWW-Authenticate says why'),
            403: oauthError('insufficient scope'),
          },
        },
      ]),
    ),
    [`${p}/consent`]: {
      get: page('Consent page: the user approves the client’s access'),
      post: {
        summary: 'Consent decision (form post from the consent page)',
        requestBody: { required: true, content: form([], { decision: 'approve or deny' }) },
        responses: {
          303: redirect('to the client with a code or access_denied'),
          400: { description: 'HTML error page', content: html },
          403: { description: 'cross-site or stale form', content: html },
        },
      },
    },
    [`${p}/callback`]: {
      get: {
        summary: 'Return from the upstream identity provider',
        responses: {
          302: redirect('to consent or the client'),
          400: { description: 'HTML error page', content: html },
        },
      },
    },
  };
  if (!opts.registration) {
    delete paths[`${p}/register`];
    delete paths[`${p}/register/{id}`];
  }
  if (opts.localLogin) {
    paths[`${p}/login`] = {
      get: page('Sign-in form of the local identity provider', {}),
      post: {
        summary: 'Sign in (form post)',
        requestBody: {
          required: true,
          content: form([], { username: 'user name', password: 'password', state: 'flow state' }),
        },
        responses: {
          200: { description: 'the form again with an error', content: html },
          303: redirect('on to consent or the client'),
          403: { description: 'cross-site or stale form', content: html },
          429: { description: 'too many attempts', content: html },
        },
      },
    };
  }
  return paths;
}
