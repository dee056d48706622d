import { listen, type Listening } from './listen.js';
import {
  applyFaults,
  bearerToken,
  escapeHtml,
  html,
  parseBasicAuth,
  randomToken,
  readForm,
  redirect,
  s256,
  type StubFaults,
  type StubRequestLog,
} from './idp-stub-shared.js';

/** A GitHub account served by the stub. */
export interface GitHubStubUser {
  login: string;
  id: number;
  name?: string | null;
  /** Public profile email (`GET /user`), and primary verified address in `GET /user/emails`. */
  email?: string | null;
  /** Organisation logins the user belongs to (`GET /user/orgs`); ids from {@link GitHubStubOptions.orgIds}, else 1000 + position. */
  orgs?: string[];
  /** Teams the user belongs to (`GET /user/teams`, which needs `read:org`). */
  teams?: GitHubStubTeam[];
}

/** A team membership served by `GET /user/teams`. */
export interface GitHubStubTeam {
  id: number;
  slug: string;
  /** Login of the team's organisation. */
  org: string;
}

/** An OAuth app registered at the stub. */
export interface GitHubStubClient {
  clientId: string;
  clientSecret: string;
  /** Authorization callback URL; `redirect_uri` must be it or below it (GitHub's rule). Any URL when absent. */
  callbackUrl?: string;
}

/** Endpoints that faults can target. */
export type GitHubStubEndpoint = 'authorize' | 'token' | 'user' | 'emails' | 'orgs' | 'teams';

export interface GitHubStubOptions {
  /** Accounts; default one user `octocat` (id 583231). */
  users?: GitHubStubUser[];
  /** Registered OAuth apps; default `{ clientId: 'gh-client', clientSecret: 'gh-secret' }`. */
  clients?: GitHubStubClient[];
  /**
   * `true` (default): `/login/oauth/authorize` redirects straight back with a code.
   * `false`: it renders a page with approve/deny buttons (a form POST).
   */
  autoApprove?: boolean;
  /** Login of the account that approves; default the first user. `?login=` on authorize overrides it. */
  user?: string;
  /** Authorization code lifetime; GitHub's is 10 minutes. */
  codeTtlMs?: number;
  /** Clock in ms; inject to expire codes without sleeping. */
  now?: () => number;
  /** Initial failure modes (also mutable later via `stub.faults`). */
  faults?: StubFaults<GitHubStubEndpoint>;
  /** Numeric ids of organisations by login (the same for every member); others are 1000 + position in the user's `orgs`. */
  orgIds?: Record<string, number>;
}

/** A code the stub issued, for inspection. */
export interface GitHubStubCode {
  code: string;
  clientId: string;
  login: string;
  redirectUri: string | undefined;
  scope: string;
  codeChallenge: string | undefined;
  issuedAt: number;
  used: boolean;
}

/** An access token the stub issued, with how many API calls used it. */
export interface GitHubStubToken {
  token: string;
  clientId: string;
  login: string;
  scope: string;
  apiCalls: number;
}

/** A running GitHub stub. */
export interface GitHubStub {
  /** Base URL; serves both `github.com` paths and `api.github.com` paths. */
  url: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** API base (where `/user` lives). */
  apiUrl: string;
  users: GitHubStubUser[];
  clients: GitHubStubClient[];
  /** Mutable failure modes. */
  faults: StubFaults<GitHubStubEndpoint>;
  /** Login that approves the next authorization (mutable). */
  user: string;
  /** Auto-approve mode (mutable). */
  autoApprove: boolean;
  codes: Map<string, GitHubStubCode>;
  tokens: Map<string, GitHubStubToken>;
  requests: StubRequestLog[];
  close(): Promise<void>;
}

const DOCS =
  'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

/**
 * Starts a stub of GitHub's OAuth web flow on `127.0.0.1:0`:
 * `GET /login/oauth/authorize`, `POST /login/oauth/access_token` (form-encoded
 * unless `Accept: application/json`, errors with HTTP 200 like GitHub),
 * `GET /user`, `GET /user/emails` (needs `user:email` or `user` scope),
 * `GET /user/orgs`, `GET /user/teams` (needs `read:org`). PKCE (`code_challenge_method=S256`) is honoured when sent.
 */
export async function startGitHubStub(opts: GitHubStubOptions = {}): Promise<GitHubStub> {
  const now = opts.now ?? Date.now;
  const codeTtlMs = opts.codeTtlMs ?? 600_000;
  const users = opts.users ?? [
    { login: 'octocat', id: 583231, name: 'The Octocat', email: 'octocat@github.com', orgs: ['github'] },
  ];
  const clients = opts.clients ?? [{ clientId: 'gh-client', clientSecret: 'gh-secret' }];
  const codes = new Map<string, GitHubStubCode>();
  const tokens = new Map<string, GitHubStubToken>();
  const requests: StubRequestLog[] = [];
  // Pending authorizations waiting for the approve/deny form, by id.
  const pending = new Map<string, URLSearchParams>();

  const state = {
    faults: opts.faults ?? {},
    user: opts.user ?? users[0]?.login ?? '',
    autoApprove: opts.autoApprove ?? true,
  };

  const findUser = (login: string) => users.find((u) => u.login.toLowerCase() === login.toLowerCase());

  const redirectAllowed = (client: GitHubStubClient, redirectUri: string | null): boolean => {
    if (!redirectUri || !client.callbackUrl) return true;
    try {
      const cb = new URL(client.callbackUrl);
      const ru = new URL(redirectUri);
      return (
        ru.origin === cb.origin &&
        (ru.pathname === cb.pathname || ru.pathname.startsWith(cb.pathname.replace(/\/?$/, '/')))
      );
    } catch {
      return false;
    }
  };

  /** Finishes an authorization: approve → code, deny → access_denied. */
  const decide = (params: URLSearchParams, approve: boolean, login: string): Response => {
    const client = clients.find((c) => c.clientId === params.get('client_id'))!;
    const target = new URL(params.get('redirect_uri') ?? client.callbackUrl ?? '');
    const st = params.get('state');
    if (!approve || state.faults.deny) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user has denied your application access.');
      target.searchParams.set('error_uri', DOCS);
    } else {
      const code = randomToken().slice(0, 20);
      codes.set(code, {
        code,
        clientId: client.clientId,
        login,
        redirectUri: params.get('redirect_uri') ?? undefined,
        scope: (params.get('scope') ?? '')
          .split(/[\s,]+/)
          .filter(Boolean)
          .join(','),
        codeChallenge: params.get('code_challenge') ?? undefined,
        issuedAt: now(),
        used: false,
      });
      target.searchParams.set('code', code);
    }
    if (st !== null) target.searchParams.set('state', st);
    return redirect(target);
  };

  const authorize = async (request: Request): Promise<Response> => {
    const fault = await applyFaults(state.faults, 'authorize');
    if (fault) return fault;
    const params = new URL(request.url).searchParams;
    const client = clients.find((c) => c.clientId === params.get('client_id'));
    if (!client) return html('<h1>404</h1><p>Not Found</p>', 404);
    if (!redirectAllowed(client, params.get('redirect_uri'))) {
      return html('<h1>The redirect_uri is not associated with this application.</h1>', 400);
    }
    if (!params.get('redirect_uri') && !client.callbackUrl) {
      return html('<h1>redirect_uri required: this stub app has no callback URL</h1>', 400);
    }
    const method = params.get('code_challenge_method');
    if (params.get('code_challenge') && method !== 'S256') {
      return html('<h1>code_challenge_method must be S256</h1>', 400);
    }
    const login = params.get('login') ?? state.user;
    if (state.autoApprove) {
      if (!findUser(login)) return html(`<h1>no such user: ${escapeHtml(login)}</h1>`, 400);
      return decide(params, true, login);
    }
    const id = randomToken();
    pending.set(id, params);
    const options = users
      .map(
        (u) =>
          `<option value="${escapeHtml(u.login)}"${u.login === login ? ' selected' : ''}>${escapeHtml(u.login)}</option>`,
      )
      .join('');
    return html(
      `<h1>Authorize application</h1>
       <form method="post" action="/login/oauth/authorize">
         <input type="hidden" name="pending" value="${id}">
         <label>Account <select name="login">${options}</select></label>
         <button name="decision" value="approve">Authorize</button>
         <button name="decision" value="deny">Cancel</button>
       </form>`,
    );
  };

  const authorizeDecision = async (request: Request): Promise<Response> => {
    const form = await readForm(request);
    const params = pending.get(form.get('pending') ?? '');
    if (!params) return html('<h1>unknown or used authorization request</h1>', 400);
    pending.delete(form.get('pending')!);
    const login = form.get('login') ?? state.user;
    if (!findUser(login)) return html('<h1>no such user</h1>', 400);
    return decide(params, form.get('decision') === 'approve', login);
  };

  const token = async (request: Request): Promise<Response> => {
    const fault = await applyFaults(state.faults, 'token');
    if (fault) return fault;
    const form = await readForm(request);
    const wantsJson = (request.headers.get('accept') ?? '').includes('application/json');
    const answer = (body: Record<string, string>) =>
      wantsJson
        ? Response.json(body, { headers: { 'cache-control': 'no-store' } })
        : new Response(new URLSearchParams(body).toString(), {
            headers: {
              'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
              'cache-control': 'no-store',
            },
          });
    // GitHub answers errors with HTTP 200 and an `error` member.
    const fail = (error: string, description: string) =>
      answer({ error, error_description: description, error_uri: DOCS });

    const basic = parseBasicAuth(request.headers.get('authorization'));
    const clientId = basic?.id ?? form.get('client_id');
    const secret = basic?.secret ?? form.get('client_secret');
    const client = clients.find((c) => c.clientId === clientId);
    if (!client || client.clientSecret !== secret) {
      return fail('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    }
    const code = form.get('code') ?? '';
    const issued = codes.get(code);
    if (
      !issued ||
      issued.used ||
      issued.clientId !== client.clientId ||
      now() - issued.issuedAt > codeTtlMs
    ) {
      return fail('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    const redirectUri = form.get('redirect_uri');
    if (redirectUri !== null && issued.redirectUri !== undefined && redirectUri !== issued.redirectUri) {
      return fail(
        'redirect_uri_mismatch',
        'The redirect_uri MUST match the registered callback URL for this application.',
      );
    }
    if (issued.codeChallenge !== undefined) {
      const verifier = form.get('code_verifier') ?? '';
      if (!verifier || (await s256(verifier)) !== issued.codeChallenge) {
        return fail('bad_verification_code', 'The code passed is incorrect or expired.');
      }
    }
    issued.used = true;
    const access = randomToken('gho_').slice(0, 40);
    tokens.set(access, {
      token: access,
      clientId: client.clientId,
      login: issued.login,
      scope: issued.scope,
      apiCalls: 0,
    });
    return answer({ access_token: access, token_type: 'bearer', scope: issued.scope });
  };

  const orgId = (login: string, position: number) => opts.orgIds?.[login] ?? 1000 + position;

  const api = async (request: Request, endpoint: 'user' | 'emails' | 'orgs' | 'teams'): Promise<Response> => {
    const fault = await applyFaults(state.faults, endpoint);
    if (fault) return fault;
    const header = request.headers.get('authorization');
    const raw = bearerToken(header);
    const docs = 'https://docs.github.com/rest';
    if (!raw)
      return Response.json({ message: 'Requires authentication', documentation_url: docs }, { status: 401 });
    const tok = tokens.get(raw);
    const user = tok && findUser(tok.login);
    if (!tok || !user)
      return Response.json({ message: 'Bad credentials', documentation_url: docs }, { status: 401 });
    tok.apiCalls++;
    const headers = {
      'x-oauth-scopes': tok.scope.split(',').join(', '),
      'content-type': 'application/json; charset=utf-8',
    };
    const scopes = tok.scope.split(',');
    if (endpoint === 'user') {
      return new Response(
        JSON.stringify({
          login: user.login,
          id: user.id,
          node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
          type: 'User',
          name: user.name ?? null,
          email: user.email ?? null,
          html_url: `https://github.com/${user.login}`,
          avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
        }),
        { headers },
      );
    }
    if (endpoint === 'emails') {
      if (!scopes.includes('user') && !scopes.includes('user:email')) {
        return Response.json({ message: 'Not Found', documentation_url: docs }, { status: 404 });
      }
      const emails = user.email
        ? [{ email: user.email, primary: true, verified: true, visibility: 'public' }]
        : [];
      return new Response(JSON.stringify(emails), { headers });
    }
    if (endpoint === 'teams') {
      if (!scopes.some((s) => s === 'read:org' || s === 'admin:org')) {
        return Response.json(
          { message: 'Resource not accessible by integration', documentation_url: docs },
          { status: 403 },
        );
      }
      const teams = (user.teams ?? []).map((t) => {
        const position = (user.orgs ?? []).indexOf(t.org);
        return {
          id: t.id,
          slug: t.slug,
          name: t.slug,
          organization: { login: t.org, id: orgId(t.org, position < 0 ? 0 : position) },
        };
      });
      return new Response(JSON.stringify(teams), { headers });
    }
    const orgs = (user.orgs ?? []).map((login, i) => ({
      login,
      id: orgId(login, i),
      url: `https://api.github.com/orgs/${login}`,
    }));
    return new Response(JSON.stringify(orgs), { headers });
  };

  const server: Listening = await listen(async (request) => {
    const url = new URL(request.url);
    requests.push({
      method: request.method,
      path: url.pathname,
      authorization: request.headers.get('authorization') ?? undefined,
      at: now(),
    });
    const route = `${request.method} ${url.pathname}`;
    switch (route) {
      case 'GET /login/oauth/authorize':
        return authorize(request);
      case 'POST /login/oauth/authorize':
        return authorizeDecision(request);
      case 'POST /login/oauth/access_token':
        return token(request);
      case 'GET /user':
        return api(request, 'user');
      case 'GET /user/emails':
        return api(request, 'emails');
      case 'GET /user/orgs':
        return api(request, 'orgs');
      case 'GET /user/teams':
        return api(request, 'teams');
      default:
        return Response.json({ message: 'Not Found' }, { status: 404 });
    }
  });

  return {
    url: server.url,
    authorizationEndpoint: `${server.url}/login/oauth/authorize`,
    tokenEndpoint: `${server.url}/login/oauth/access_token`,
    apiUrl: server.url,
    users,
    clients,
    get faults() {
      return state.faults;
    },
    set faults(v) {
      state.faults = v;
    },
    get user() {
      return state.user;
    },
    set user(v) {
      state.user = v;
    },
    get autoApprove() {
      return state.autoApprove;
    },
    set autoApprove(v) {
      state.autoApprove = v;
    },
    codes,
    tokens,
    requests,
    close: () => server.close(),
  };
}
