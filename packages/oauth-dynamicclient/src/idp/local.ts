import { randomBytes } from 'node:crypto';
import { readForm } from '../http/body.js';
import { OAuthError } from '../http/errors.js';
import { isCrossSitePost, sameToken } from '@mcp-gateway/internal/same-origin';
import { hashSecret } from '../secrets.js';
import { LoginThrottle, type LoginThrottleSettings } from './login-throttle.js';
import {
  DEFAULT_PASSWORD_COST,
  hashPassword,
  verifyAndUpgradePassword,
  verifyPassword,
  type PasswordCost,
} from './password.js';
import {
  LoginError,
  type IdentityProvider,
  type IdpContext,
  type ProviderRoute,
  type UpstreamIdentity,
} from './types.js';

export { hashPassword, verifyPassword };

/** A user of the local identity provider. */
export interface LocalUser {
  username: string;
  /** From {@link hashPassword}. Plaintext passwords are never accepted in options. */
  passwordHash: string;
  name?: string;
  email?: string;
  /** Groups the user belongs to (for authorization such as per-tool policy). */
  groups?: string[];
}

export interface LocalIdentityProviderOptions {
  users: LocalUser[];
  /**
   * Looks a user up by name (NFC-normalized, lower-cased) where `users` has
   * none, on every sign-in: for users kept in a store and changed while the
   * server runs. One lookup per sign-in, so its cost does not grow with the
   * number of users.
   */
  findUser?: (username: string) => Promise<LocalUser | undefined>;
  /**
   * The scrypt cost passwords are held to (default N=2^17, r=8, p=1). A
   * hash with a lower cost still verifies, and is replaced by one with this
   * cost at the user's next successful sign-in. Lower it only in tests.
   */
  passwordCost?: PasswordCost;
  /**
   * Called after a successful sign-in replaced a weaker hash: store
   * `passwordHash` in place of `previousHash` for `username`. The provider
   * uses the new hash from then on either way; if this throws, the sign-in
   * still succeeds and the upgrade is tried again next time.
   */
  onPasswordUpgrade?: (username: string, passwordHash: string, previousHash: string) => void | Promise<void>;
  /** Per-account backoff after failed sign-ins (defaults: 5 free attempts, 5 s doubling up to 15 min). */
  throttle?: Partial<LoginThrottleSettings>;
}

/** What a one-time local sign-in code stands for, and which flow and browser it belongs to. */
interface LocalLogin {
  username: string;
  /** Hash of the flow's upstream `state`. */
  state: string;
  /** Hash of the browser-binding value of the browser that signed in. */
  binding: string;
}

/** One dummy hash per cost, made on first use: unknown users are checked against it. */
const dummies = new Map<string, Promise<string>>();
function dummyHash(cost: PasswordCost): Promise<string> {
  const key = `${cost.N}$${cost.r}$${cost.p}`;
  let d = dummies.get(key);
  if (!d) {
    d = hashPassword(randomBytes(16).toString('hex'), cost);
    dummies.set(key, d);
    d.catch(() => dummies.delete(key));
  }
  return d;
}

const STATE_MAX = 200;

/**
 * The embedded identity provider: a sign-in form served by the authorization
 * server itself, users with scrypt-hashed passwords from the options. Needs no
 * outside service. The form posts to `/login`; a success returns the browser
 * to `/callback` with a one-time code, like an upstream provider would.
 *
 * The form is protected like the consent form: cross-site posts are refused
 * before anything is read, and it carries a CSRF token bound to the flow's
 * `state` and the browser-binding cookie. The one-time code only completes
 * the flow it was issued for, in the browser that signed in. Failed attempts
 * back off per account ({@link LoginThrottle}); weaker password hashes are
 * upgraded at the next successful sign-in.
 */
export function localIdentityProvider(options: LocalIdentityProviderOptions): IdentityProvider {
  const users = new Map(options.users.map((u) => [u.username.normalize('NFC').toLowerCase(), u]));
  const cost = options.passwordCost ?? DEFAULT_PASSWORD_COST;
  const find = async (username: string): Promise<LocalUser | undefined> => {
    const key = username.normalize('NFC').toLowerCase();
    return users.get(key) ?? (await options.findUser?.(key));
  };
  let ctx: IdpContext | undefined;
  let throttle: LoginThrottle | undefined;
  const need = () => {
    if (!ctx) throw new Error('local identity provider used before attach()');
    return ctx;
  };

  /** The CSRF token of a sign-in form: HMAC over the flow state and the browser binding. */
  const csrfToken = (c: IdpContext, state: string, binding: string) =>
    c.binding.sign(`login\u0000${state}\u0000${binding}`);

  /** The browser's binding hash, or `undefined` without a valid cookie. */
  const browserBinding = async (c: IdpContext, request: Request) => {
    const value = await c.binding.read(request);
    return value === undefined ? undefined : hashSecret(value);
  };

  const form = async (
    c: IdpContext,
    state: string,
    binding: string,
    status: number,
    message?: string,
    username?: string,
    headers?: Record<string, string>,
  ) =>
    c.pages.login(
      {
        action: c.endpoint('/login'),
        fields: { state, csrf: await csrfToken(c, state, binding) },
        ...(message ? { message } : {}),
        ...(username ? { username } : {}),
      },
      status,
      headers,
    );

  /** Replaces a weaker hash after a successful sign-in (in memory, and through the hook). */
  const upgrade = async (user: LocalUser, passwordHash: string) => {
    const previousHash = user.passwordHash;
    const key = user.username.normalize('NFC').toLowerCase();
    // Users from `findUser` are looked up afresh each time: keeping a copy here
    // would outlive a later change or removal in their store.
    if (users.has(key)) users.set(key, { ...user, passwordHash });
    try {
      await options.onPasswordUpgrade?.(user.username, passwordHash, previousHash);
    } catch {
      // The old hash keeps working where it is stored; the next sign-in tries again.
    }
  };

  return {
    id: 'local',
    thirdParty: false,
    displayName: 'this server',
    attach(c) {
      ctx = c;
      throttle = new LoginThrottle(c.store, c.clock, options.throttle);
    },
    routes(): ProviderRoute[] {
      const c = need();
      const ownOrigin = new URL(c.callbackUrl).origin;
      const notThisBrowser = () =>
        c.pages.error(
          'access_denied',
          'This sign-in form does not belong to this browser session. Start again from the application.',
          403,
        );
      return [
        {
          method: 'GET',
          path: c.path('/login'),
          page: true,
          handler: async (request, _ctx, { url }) => {
            const state = url.searchParams.get('state') ?? '';
            if (!state || state.length > STATE_MAX)
              return c.pages.error('invalid_request', 'The sign-in link is incomplete.');
            // Normally the cookie set by /authorize (sent again with a fresh Max-Age);
            // without one, a new one (the callback will then refuse the flow as
            // started in another browser).
            const { binding, setCookie } = await c.binding.ensure(request);
            return form(c, state, binding, 200, undefined, undefined, { 'set-cookie': setCookie });
          },
        },
        {
          method: 'POST',
          path: c.path('/login'),
          rateLimit: 'login',
          page: true,
          handler: async (request) => {
            // Before reading anything: a post from another site changes nothing.
            if (isCrossSitePost(request, ownOrigin))
              return c.pages.error('access_denied', 'This form can only be sent from this site.', 403);
            let fields: Record<string, string>;
            try {
              fields = await readForm(request, 8 * 1024);
            } catch (err) {
              if (err instanceof OAuthError)
                return c.pages.error(err.error, err.description ?? 'bad request', err.status);
              throw err;
            }
            const state = fields.state ?? '';
            const username = (fields.username ?? '').normalize('NFC').slice(0, 100);
            const password = fields.password ?? '';
            if (!state || state.length > STATE_MAX)
              return c.pages.error('invalid_request', 'The sign-in form is incomplete.');
            const binding = await browserBinding(c, request);
            if (!binding || !sameToken(fields.csrf, await csrfToken(c, state, binding)))
              return notThisBrowser();

            const limiter = throttle!;
            const user = await find(username);
            // Accounts always get a counter of their own; made-up names are bounded overall.
            const kind = { known: user !== undefined };
            const admitted = await limiter.admit(username, kind);
            if (!admitted.ok) {
              const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
              return form(
                c,
                state,
                binding,
                429,
                `Too many failed sign-in attempts for this account. Try again in ${seconds} s.`,
                username,
                { 'retry-after': String(seconds) },
              );
            }
            // Unknown users are checked against a dummy hash so timing does not reveal which names exist.
            const result = user
              ? await verifyAndUpgradePassword(password, user.passwordHash, cost)
              : await verifyPassword(password, await dummyHash(cost)).then(() => ({ ok: false }) as const);
            if (!result.ok || !user) {
              await limiter.failed(username, kind);
              c.loginFailed({ provider: 'local', reason: 'not_allowed', who: username });
              return form(c, state, binding, 401, 'Wrong user name or password.', username);
            }
            await limiter.succeeded(username);
            if (result.upgraded) await upgrade(user, result.upgraded);
            const code = c.ids.token(32);
            await c.store.set(
              `local-login:${await hashSecret(code)}`,
              { username: user.username, state: await hashSecret(state), binding } satisfies LocalLogin,
              60_000,
            );
            const back = new URL(c.callbackUrl);
            back.searchParams.set('code', code);
            back.searchParams.set('state', state);
            return new Response(null, {
              status: 303,
              headers: { location: back.href, 'cache-control': 'no-store' },
            });
          },
        },
      ];
    },
    async begin({ state }) {
      const url = new URL(need().endpoint('/login'));
      url.searchParams.set('state', state);
      return { url: url.href, data: {} };
    },
    async complete({ params, state, binding }): Promise<UpstreamIdentity> {
      const c = need();
      const code = params.get('code') ?? '';
      const login =
        code && code.length < 200
          ? await c.store.take<LocalLogin>(`local-login:${await hashSecret(code)}`)
          : undefined;
      // The code belongs to one flow (its state) and one browser (its binding).
      const ours =
        login !== undefined &&
        login.state === (await hashSecret(state)) &&
        (binding === undefined || login.binding === binding);
      const user = ours ? await find(login.username) : undefined;
      if (!user) throw new LoginError('upstream_error', 'local sign-in code invalid or expired');
      return {
        sub: `local:${user.username}`,
        login: user.username,
        ...(user.name ? { name: user.name } : {}),
        ...(user.email ? { email: user.email } : {}),
        ...(user.groups?.length ? { groups: [...user.groups] } : {}),
      };
    },
  };
}
