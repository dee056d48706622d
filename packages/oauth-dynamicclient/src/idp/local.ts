import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Route } from '../context.js';
import { readForm } from '../http/body.js';
import { OAuthError } from '../http/errors.js';
import { hashSecret } from '../secrets.js';
import { LoginError, type IdentityProvider, type IdpContext, type UpstreamIdentity } from './types.js';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

const DEFAULT_COST = { N: 16384, r: 8, p: 1 };

/**
 * Hashes a password for {@link localIdentityProvider}'s `users`: scrypt
 * (N=16384, r=8, p=1, 16-byte salt, 32-byte key), encoded as
 * `scrypt$N$r$p$salt$hash` (base64url).
 */
export async function hashPassword(
  password: string,
  cost: { N: number; r: number; p: number } = DEFAULT_COST,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFC'), salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r });
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks `password` against a {@link hashPassword} string in constant time. Malformed hashes never match. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return false;
  const key = await scrypt(password.normalize('NFC'), salt, expected.length, {
    N,
    r,
    p,
    maxmem: 256 * N * r,
  });
  return timingSafeEqual(key, expected);
}

/** A user of the local identity provider. */
export interface LocalUser {
  username: string;
  /** From {@link hashPassword}. Plaintext passwords are never accepted in options. */
  passwordHash: string;
  name?: string;
  email?: string;
}

export interface LocalIdentityProviderOptions {
  users: LocalUser[];
}

interface LocalLogin {
  username: string;
}

/**
 * The embedded identity provider: a sign-in form served by the authorization
 * server itself, users with scrypt-hashed passwords from the options. Needs no
 * outside service. The form posts to `/login`; a success returns the browser
 * to `/callback` with a one-time code, like an upstream provider would.
 */
export function localIdentityProvider(options: LocalIdentityProviderOptions): IdentityProvider {
  const users = new Map(options.users.map((u) => [u.username.normalize('NFC').toLowerCase(), u]));
  // Unknown users are checked against a dummy hash so timing does not reveal which names exist.
  const dummy = hashPassword(randomBytes(16).toString('hex'));
  let ctx: IdpContext | undefined;
  const need = () => {
    if (!ctx) throw new Error('local identity provider used before attach()');
    return ctx;
  };

  const form = (c: IdpContext, state: string, status: number, message?: string, username?: string) =>
    c.pages.login(
      {
        action: c.endpoint('/login'),
        fields: { state },
        ...(message ? { message } : {}),
        ...(username ? { username } : {}),
      },
      status,
    );

  return {
    id: 'local',
    attach(c) {
      ctx = c;
    },
    routes(): Route[] {
      const c = need();
      return [
        {
          method: 'GET',
          path: c.path('/login'),
          page: true,
          handler: async (_request, _ctx, { url }) => {
            const state = url.searchParams.get('state') ?? '';
            if (!state || state.length > 200)
              return c.pages.error('invalid_request', 'The sign-in link is incomplete.');
            return form(c, state, 200);
          },
        },
        {
          method: 'POST',
          path: c.path('/login'),
          rateLimit: 'login',
          page: true,
          handler: async (request) => {
            let fields: Record<string, string>;
            try {
              fields = await readForm(request, 8 * 1024);
            } catch (err) {
              if (err instanceof OAuthError)
                return c.pages.error(err.error, err.description ?? 'bad request', err.status);
              throw err;
            }
            const state = fields.state ?? '';
            const username = (fields.username ?? '').normalize('NFC');
            const password = fields.password ?? '';
            if (!state || state.length > 200)
              return c.pages.error('invalid_request', 'The sign-in form is incomplete.');
            const user = users.get(username.toLowerCase());
            const ok = user
              ? await verifyPassword(password, user.passwordHash)
              : await verifyPassword(password, await dummy).then(() => false);
            if (!ok || !user) {
              c.loginFailed({ provider: 'local', reason: 'not_allowed', who: username.slice(0, 100) });
              return form(c, state, 401, 'Wrong user name or password.', username.slice(0, 100));
            }
            const code = c.ids.token(32);
            await c.store.set(
              `local-login:${await hashSecret(code)}`,
              { username: user.username } satisfies LocalLogin,
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
    async complete({ params }): Promise<UpstreamIdentity> {
      const c = need();
      const code = params.get('code') ?? '';
      const login =
        code && code.length < 200
          ? await c.store.take<LocalLogin>(`local-login:${await hashSecret(code)}`)
          : undefined;
      const user = login && users.get(login.username.normalize('NFC').toLowerCase());
      if (!user) throw new LoginError('upstream_error', 'local sign-in code invalid or expired');
      return {
        sub: `local:${user.username}`,
        login: user.username,
        ...(user.name ? { name: user.name } : {}),
        ...(user.email ? { email: user.email } : {}),
      };
    },
  };
}
