// The authorization server's own code flow (authorize → local login → callback
// → consent → token), as bench/verify's two processes drive it to get a real
// access token: through sockets (servers.ts) or through `as.fetch` (run.ts).
import type { AuthorizationServer } from '@mcp-gateway/oauth-dynamicclient';

/** How the flow reaches the server: a fetch that does not follow redirects. */
export type Send = (url: string, init: RequestInit) => Promise<Response>;

/** The access token of one full code flow of `username`; `dpop` adds a proof to the token request. */
export async function tokenThroughFlow(opts: {
  as: AuthorizationServer;
  issuer: string;
  send: Send;
  username: string;
  password: string;
  dpop?: () => Promise<string>;
}): Promise<string> {
  const { as, issuer } = opts;
  const redirect = 'http://127.0.0.1:9/cb';
  const reg = await as.clients.register({ redirect_uris: [redirect], token_endpoint_auth_method: 'none' });
  const verifier = 'b'.repeat(43);
  const challenge = Buffer.from(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  ).toString('base64url');
  let cookie = '';
  const go = async (url: string, init: RequestInit = {}) => {
    const res = await opts.send(url, {
      ...init,
      headers: { cookie, ...(init.headers as Record<string, string>) },
    });
    const set = res.headers.getSetCookie()[0];
    if (set) cookie = set.split(';')[0]!;
    return res;
  };
  const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
      ...headers,
    },
    body: new URLSearchParams(body),
  });
  const field = (name: string, page: string) =>
    new RegExp(`name="${name}"\\s+value="([^"]+)"`).exec(page)![1]!;
  const auth = await go(
    `${issuer}/authorize?${new URLSearchParams({ client_id: reg.client.client_id, redirect_uri: redirect, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256' })}`,
  );
  const state = new URL(auth.headers.get('location')!).searchParams.get('state')!;
  // The login form's CSRF token is bound to this browser's flow cookie.
  const loginPage = await (await go(auth.headers.get('location')!)).text();
  const login = await go(
    `${issuer}/login`,
    form({ state, csrf: field('csrf', loginPage), username: opts.username, password: opts.password }),
  );
  // Follow the server's own redirects (callback → consent) to the consent page.
  let hop = login;
  while (hop.headers.get('location')?.startsWith(issuer)) hop = await go(hop.headers.get('location')!);
  const consentPage = await hop.text();
  const approved = await go(
    `${issuer}/consent`,
    form({
      consent_id: field('consent_id', consentPage),
      csrf: field('csrf', consentPage),
      decision: 'approve',
    }),
  );
  const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
  const res = await go(
    `${issuer}/token`,
    form(
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirect,
        client_id: reg.client.client_id,
      },
      opts.dpop ? { dpop: await opts.dpop() } : {},
    ),
  );
  return ((await res.json()) as { access_token: string }).access_token;
}
