import type { Clock } from '../clock.js';
import type { IdGenerator } from '../ids.js';
import { hashSecret } from '../secrets.js';
import type { Store } from '../store/types.js';

/** Everything an authorization code is bound to. */
export interface AuthorizationCodeRecord {
  clientId: string;
  redirectUri: string;
  /** Whether the authorization request named `redirect_uri` (then the token request must repeat it). */
  redirectUriExplicit: boolean;
  /** PKCE S256 challenge. */
  codeChallenge: string;
  /** Canonical resource (the tokens' audience). */
  resource: string;
  scopes: string[];
  sub: string;
  login?: string;
  name?: string;
  /** The user's groups at sign-in (bounded), for the access tokens' `groups` claim. */
  groups?: string[];
  grantId: string;
  /** The token family every token from this code belongs to. */
  familyId: string;
  issuedAt: number;
  /** RFC 9449 §10: `dpop_jkt` of the authorization request; the token request must prove this key. */
  dpopJkt?: string;
}

/** What a redeemed code left behind, so a replay can revoke what it produced. */
interface RedeemedMarker {
  familyId: string;
  clientId: string;
  sub: string;
}

/** The outcome of presenting a code. */
export type Redemption =
  | { status: 'ok'; record: AuthorizationCodeRecord }
  | { status: 'replayed'; familyId: string; clientId: string; sub: string }
  | { status: 'invalid' };

/**
 * Authorization codes: 256-bit random, stored only as a hash, single-use
 * through the store's atomic `take`, short-lived (60 s default). A redeemed
 * code leaves a marker so that presenting it again can revoke every token
 * issued from it (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3).
 */
export class AuthorizationCodes {
  constructor(
    private readonly opts: {
      store: Store;
      clock: Clock;
      ids: IdGenerator;
      ttlMs: number;
      /** How long a replay still revokes (at least the access-token lifetime). */
      replayWindowMs: number;
    },
  ) {}

  async issue(record: Omit<AuthorizationCodeRecord, 'issuedAt'>): Promise<string> {
    const code = this.opts.ids.token(32);
    await this.opts.store.set(
      `code:${await hashSecret(code)}`,
      { ...record, issuedAt: this.opts.clock.now() } satisfies AuthorizationCodeRecord,
      this.opts.ttlMs,
    );
    return code;
  }

  /** The record behind `code` while it is unredeemed, without using it. */
  async peek(code: string): Promise<AuthorizationCodeRecord | undefined> {
    if (code.length === 0 || code.length > 512) return undefined;
    return this.opts.store.get<AuthorizationCodeRecord>(`code:${await hashSecret(code)}`);
  }

  /** Takes the code (once). Replays of a redeemed code are reported with the family they produced. */
  async redeem(code: string): Promise<Redemption> {
    if (code.length === 0 || code.length > 512) return { status: 'invalid' };
    const hash = await hashSecret(code);
    const record = await this.opts.store.take<AuthorizationCodeRecord>(`code:${hash}`);
    if (record) {
      await this.opts.store.set(
        `code-used:${hash}`,
        { familyId: record.familyId, clientId: record.clientId, sub: record.sub } satisfies RedeemedMarker,
        this.opts.replayWindowMs,
      );
      return { status: 'ok', record };
    }
    const used = await this.opts.store.get<RedeemedMarker>(`code-used:${hash}`);
    return used ? { status: 'replayed', ...used } : { status: 'invalid' };
  }
}
