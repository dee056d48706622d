import * as oauth from 'oauth4webapi';
import {
  listAdmits,
  LoginError,
  type IdentityProvider,
  type IdpContext,
  type UpstreamIdentity,
} from './types.js';

/** Options for {@link githubIdentityProvider}. */
export interface GitHubIdentityProviderOptions {
  /** OAuth app client id. */
  clientId: string;
  /** OAuth app client secret. */
  clientSecret: string;
  /**
   * Users admitted by numeric GitHub user id, written `github:583231` or
   * `583231` (`*` = every GitHub user). Logins are not matched: a GitHub user
   * can rename, and the old login can then be taken by someone else.
   */
  allowedUsers?: string[];
  /**
   * Organisations whose members are admitted (`*` = members of any organisation). Asks for
   * `read:org`. An all-digit entry (`9919`) is an organisation id and matches only the id:
   * preferred, since an id never changes hands. Any other entry is a login, matched only
   * against logins (case-insensitively); an organisation can rename, and its old login can
   * then be registered by anyone. An organisation whose login is all digits can therefore be
   * admitted only by its id.
   */
  allowedOrgs?: string[];
  /**
   * Read the user's organisation and team memberships as groups, by numeric id
   * (`github-org:<org id>`, `github-team:<team id>`; first 100 of each), for
   * authorization such as per-tool policy. Asks for `read:org`. Default `false`.
   */
  groups?: boolean;
  /** Default `https://github.com` (change for GitHub Enterprise or tests). */
  baseUrl?: string;
  /** Default `https://api.github.com`. */
  apiUrl?: string;
  /** Timeout for each upstream request (default 10 s). */
  timeoutMs?: number;
}

interface GitHubOrg {
  login?: unknown;
  id?: unknown;
}

/** `github-org:<id>` and `github-team:<id>` of the API's answers, by immutable numeric id (logins and slugs can be renamed). */
function memberships(orgs: GitHubOrg[], teams: unknown): string[] {
  const ids = (list: unknown, prefix: string) =>
    Array.isArray(list)
      ? list.flatMap((o: { id?: unknown } | null) =>
          typeof o?.id === 'number' && Number.isSafeInteger(o.id) ? [`${prefix}:${o.id}`] : [],
        )
      : [];
  return [...ids(orgs, 'github-org'), ...ids(teams, 'github-team')];
}

/**
 * Whether membership of one of `orgs` satisfies `allowed`: `*` admits a member of any organisation;
 * an all-digit entry is an organisation id and matches only ids; any other entry is a login and
 * matches only logins (case-insensitively). The kinds never cross: anyone can create an
 * organisation whose login is another organisation's id.
 */
function orgsAdmit(allowed: string[], orgs: GitHubOrg[]): boolean {
  if (orgs.length === 0) return false;
  if (allowed.includes('*')) return true;
  const ids = new Set(allowed.filter((a) => /^\d+$/.test(a)));
  const logins = new Set(allowed.filter((a) => !/^\d+$/.test(a)).map((a) => a.toLowerCase()));
  return orgs.some(
    (o) =>
      (typeof o.id === 'number' && Number.isSafeInteger(o.id) && ids.has(String(o.id))) ||
      (typeof o.login === 'string' && logins.has(o.login.toLowerCase())),
  );
}

interface GitHubUser {
  id: number;
  login: string;
  name?: string | null;
  email?: string | null;
}

/**
 * GitHub as the upstream identity provider (OAuth app web flow through
 * oauth4webapi, with PKCE). Admits users by numeric id or organisation; an
 * empty allow-list admits nobody. The identity's `sub` is `github:<id>`;
 * `login` is for display only. The GitHub access token reads `/user` (and
 * `/user/orgs` when organisations are configured, `/user/orgs` and
 * `/user/teams` with `groups`) and is then dropped.
 */
export function githubIdentityProvider(options: GitHubIdentityProviderOptions): IdentityProvider {
  const base = (options.baseUrl ?? 'https://github.com').replace(/\/+$/, '');
  const api = (options.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const as: oauth.AuthorizationServer = {
    issuer: base,
    authorization_endpoint: `${base}/login/oauth/authorize`,
    token_endpoint: `${base}/login/oauth/access_token`,
  };
  const client: oauth.Client = { client_id: options.clientId };
  const auth = oauth.ClientSecretPost(options.clientSecret);
  const needOrgs = (options.allowedOrgs?.length ?? 0) > 0;
  const scope = needOrgs || options.groups ? 'read:user read:org' : 'read:user';
  const insecure = { [oauth.allowInsecureRequests]: base.startsWith('http:') || api.startsWith('http:') };
  let callbackUrl = '';

  const apiGet = async <T>(path: string, token: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${api}${path}`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'mcp-gateway-oauth',
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new LoginError('unavailable', `GitHub API ${path} unreachable`, undefined, { cause: err });
    }
    if (res.status >= 500) {
      await res.body?.cancel();
      throw new LoginError('unavailable', `GitHub API ${path} answered ${res.status}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new LoginError('upstream_error', `GitHub API ${path} answered ${res.status}`);
    }
    return (await res.json()) as T;
  };

  return {
    id: 'github',
    thirdParty: true,
    displayName: 'GitHub',
    attach(ctx: IdpContext) {
      callbackUrl = ctx.callbackUrl;
    },
    async begin({ state }) {
      const verifier = oauth.generateRandomCodeVerifier();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        client_id: options.clientId,
        redirect_uri: callbackUrl,
        scope,
        state,
        allow_signup: 'false',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      return { url: url.href, data: { verifier } };
    },
    async complete({ params, state, data }): Promise<UpstreamIdentity> {
      let callback: URLSearchParams;
      try {
        callback = oauth.validateAuthResponse(as, client, params, state);
      } catch (err) {
        if (err instanceof oauth.AuthorizationResponseError) {
          const reason = err.error === 'access_denied' ? 'denied' : 'upstream_error';
          throw new LoginError(reason, `GitHub: ${err.error}`);
        }
        throw new LoginError('upstream_error', 'GitHub callback invalid', undefined, { cause: err });
      }
      let token: string;
      try {
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth,
          callback,
          callbackUrl,
          data.verifier ?? '',
          { ...insecure, signal: AbortSignal.timeout(timeoutMs) },
        );
        if (response.status >= 500) {
          await response.body?.cancel();
          throw new LoginError('unavailable', `GitHub token endpoint answered ${response.status}`);
        }
        token = (await oauth.processAuthorizationCodeResponse(as, client, response)).access_token;
      } catch (err) {
        if (err instanceof LoginError) throw err;
        // GitHub reports bad codes with HTTP 200 and an `error` member; oauth4webapi then finds no access_token.
        const body = (err as { cause?: { body?: { error?: unknown } } }).cause?.body;
        const upstream = typeof body?.error === 'string' ? body.error : undefined;
        if (
          err instanceof Error &&
          (err.name === 'TimeoutError' || err.name === 'AbortError' || err instanceof TypeError)
        ) {
          throw new LoginError('unavailable', 'GitHub token endpoint unreachable', undefined, { cause: err });
        }
        throw new LoginError(
          'upstream_error',
          `GitHub token exchange failed${upstream ? `: ${upstream}` : ''}`,
          undefined,
          {
            cause: err,
          },
        );
      }
      const user = await apiGet<GitHubUser>('/user', token);
      if (typeof user.id !== 'number' || typeof user.login !== 'string') {
        throw new LoginError('upstream_error', 'GitHub /user answered without id or login');
      }
      let admitted = listAdmits(options.allowedUsers, `github:${user.id}`, String(user.id));
      let orgs: GitHubOrg[] | undefined;
      const readOrgs = async () => {
        const list = await apiGet<unknown>('/user/orgs?per_page=100', token);
        return (orgs ??= Array.isArray(list) ? (list as GitHubOrg[]) : []);
      };
      if (!admitted && needOrgs) admitted = orgsAdmit(options.allowedOrgs ?? [], await readOrgs());
      if (!admitted) throw new LoginError('not_allowed', 'GitHub user is not on the allow-list', user.login);
      const groups = options.groups
        ? memberships(await readOrgs(), await apiGet<unknown>('/user/teams?per_page=100', token))
        : [];
      return {
        sub: `github:${user.id}`,
        login: user.login,
        ...(user.name ? { name: user.name } : {}),
        ...(user.email ? { email: user.email } : {}),
        ...(groups.length ? { groups } : {}),
      };
    },
  };
}
