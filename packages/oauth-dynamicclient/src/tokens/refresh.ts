import type { Clock } from '../clock.js';
import { invalidGrant } from '../http/errors.js';
import { base64url, type IdGenerator } from '../ids.js';
import { hashSecret } from '../secrets.js';
import type { Store } from '../store/types.js';
import type { RevocationList } from './revocation.js';

/** What a refresh token carries (stored under the token's hash, never the token). */
export interface RefreshTokenRecord {
  familyId: string;
  grantId: string;
  clientId: string;
  sub: string;
  login?: string;
  name?: string;
  /** The user's groups at sign-in: every token of the family carries them until the user signs in again. */
  groups?: string[];
  /** The audience every token of the family is for. */
  resource: string;
  /** Scopes granted to the family; a refresh may ask for fewer, never more. */
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  /** RFC 9449 §5: a public client's refresh token is usable only with a proof of this key. */
  jkt?: string;
}

/** A family: every token descending from one authorization code. */
export interface FamilyRecord {
  familyId: string;
  grantId: string;
  clientId: string;
  sub: string;
  /** Hash of the live refresh token, if any. */
  currentHash?: string;
  createdAt: number;
}

/** The outcome of presenting a refresh token. */
export interface Rotation {
  record: RefreshTokenRecord;
  /** The new refresh token. */
  refreshToken: string;
  /** `true` when this was a repeat inside the grace window and got the same successor as before. */
  repeated: boolean;
}

export interface RefreshTokenOptions {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  revocations: RevocationList;
  /** Lifetime of each refresh token (renewed by every rotation), ms. */
  ttlMs: number;
  /** Window after a rotation in which the old token still yields the same successor (default 30 s). */
  graceMs?: number;
  /** How long revoked families must stay marked: the longest access-token life, ms. */
  accessTokenTtlMs: number;
  /** Called when a used refresh token comes back after the grace window. */
  onReuse?: (record: { familyId: string; clientId: string; sub: string }) => void;
}

interface UsedMarker {
  familyId: string;
  clientId: string;
  sub: string;
}

interface GraceRecord {
  iv: string;
  data: string;
}

const enc = new TextEncoder();

/** AES-GCM key derived from the presented (old) token: the store alone cannot decrypt the successor. */
async function graceKey(oldToken: string): Promise<CryptoKey> {
  const raw = await crypto.subtle.digest('SHA-256', enc.encode(`mcp-as refresh grace\u0000${oldToken}`));
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * Refresh tokens as rotating families (OAuth 2.1 §4.3.1, BCP for browser and
 * native apps): every use returns a new token and retires the old one with the
 * store's atomic `take`. A retired token presented again revokes the whole
 * family (access tokens included), except inside a short grace window where a
 * concurrent or retried refresh receives the same successor. The successor is
 * kept for that window encrypted under a key derived from the old token.
 */
export class RefreshTokens {
  private readonly graceMs: number;

  constructor(private readonly opts: RefreshTokenOptions) {
    this.graceMs = opts.graceMs ?? 30_000;
  }

  private async put(
    record: Omit<RefreshTokenRecord, 'issuedAt' | 'expiresAt'>,
  ): Promise<{ token: string; hash: string }> {
    const token = this.opts.ids.token(32);
    const hash = await hashSecret(token);
    const now = this.opts.clock.now();
    const full: RefreshTokenRecord = { ...record, issuedAt: now, expiresAt: now + this.opts.ttlMs };
    await this.opts.store.set(`rt:${hash}`, full, this.opts.ttlMs);
    return { token, hash };
  }

  private async setFamily(family: FamilyRecord): Promise<void> {
    await this.opts.store.set(`fam:${family.familyId}`, family, this.opts.ttlMs + this.opts.accessTokenTtlMs);
  }

  /** Starts a family's refresh chain with its first token. */
  async issue(record: Omit<RefreshTokenRecord, 'issuedAt' | 'expiresAt'>): Promise<string> {
    const { token, hash } = await this.put(record);
    await this.setFamily({
      familyId: record.familyId,
      grantId: record.grantId,
      clientId: record.clientId,
      sub: record.sub,
      currentHash: hash,
      createdAt: this.opts.clock.now(),
    });
    return token;
  }

  /** Records a family that has no refresh token (so it can still be revoked as a unit). */
  async recordFamily(family: Omit<FamilyRecord, 'createdAt' | 'currentHash'>): Promise<void> {
    await this.setFamily({ ...family, createdAt: this.opts.clock.now() });
  }

  /** The record behind `token` if it is live, without using it. */
  async peek(token: string): Promise<RefreshTokenRecord | undefined> {
    return this.opts.store.get<RefreshTokenRecord>(`rt:${await hashSecret(token)}`);
  }

  /**
   * Uses `token` for `clientId`: returns the successor, or throws
   * `invalid_grant`. Reuse outside the grace window revokes the family.
   */
  async rotate(token: string, clientId: string): Promise<Rotation> {
    const { store } = this.opts;
    const hash = await hashSecret(token);
    const live = await store.get<RefreshTokenRecord>(`rt:${hash}`);
    // A token of another client is refused without consuming it (RFC 6749 §6).
    if (live && live.clientId !== clientId) throw invalidGrant('refresh token was issued to another client');
    const taken = live && (await store.take<RefreshTokenRecord>(`rt:${hash}`));
    if (taken) {
      if (await this.opts.revocations.isFamilyRevoked(taken.familyId))
        throw invalidGrant('refresh token revoked');
      const { issuedAt: _i, expiresAt: _e, ...rest } = taken;
      const next = await this.put(rest);
      const key = await graceKey(token);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = new Uint8Array(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, enc.encode(next.token)),
      );
      await store.set(
        `rt-grace:${hash}`,
        { iv: base64url(iv), data: base64url(data) } satisfies GraceRecord,
        this.graceMs,
      );
      await store.set(
        `rt-used:${hash}`,
        { familyId: taken.familyId, clientId: taken.clientId, sub: taken.sub } satisfies UsedMarker,
        this.opts.ttlMs,
      );
      const family = await store.get<FamilyRecord>(`fam:${taken.familyId}`);
      if (family) await this.setFamily({ ...family, currentHash: next.hash });
      return {
        record: {
          ...rest,
          issuedAt: this.opts.clock.now(),
          expiresAt: this.opts.clock.now() + this.opts.ttlMs,
        },
        refreshToken: next.token,
        repeated: false,
      };
    }
    return this.repeat(token, hash, clientId, live !== undefined);
  }

  /** The token was not live: a concurrent/retried refresh inside the grace window, reuse, or garbage. */
  private async repeat(token: string, hash: string, clientId: string, sawLive: boolean): Promise<Rotation> {
    const { store } = this.opts;
    // A concurrent winner may be between its `take` and writing the grace record: wait for it. When we saw
    // the token live and lost the `take`, a winner certainly exists (wait up to 2 s); otherwise look twice.
    let used: UsedMarker | undefined;
    let grace: GraceRecord | undefined;
    const attempts = sawLive ? 80 : 2;
    for (let i = 0; i < attempts; i++) {
      [used, grace] = await Promise.all([
        store.get<UsedMarker>(`rt-used:${hash}`),
        store.get<GraceRecord>(`rt-grace:${hash}`),
      ]);
      if (used || grace || i === attempts - 1) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!used && !grace) throw invalidGrant('refresh token invalid or expired');
    if (grace) {
      if (used && used.clientId !== clientId)
        throw invalidGrant('refresh token was issued to another client');
      const key = await graceKey(token);
      let successor: string;
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: fromB64url(grace.iv) },
          key,
          fromB64url(grace.data),
        );
        successor = new TextDecoder().decode(plain);
      } catch {
        throw invalidGrant('refresh token invalid or expired');
      }
      const record = await store.get<RefreshTokenRecord>(`rt:${await hashSecret(successor)}`);
      if (record && !(await this.opts.revocations.isFamilyRevoked(record.familyId))) {
        return { record, refreshToken: successor, repeated: true };
      }
      if (!used) throw invalidGrant('refresh token invalid or expired');
    }
    // Reuse outside the grace window (or of a successor already rotated): revoke the family.
    await this.revokeFamily(used!.familyId);
    this.opts.onReuse?.(used!);
    throw invalidGrant('refresh token reuse detected; the grant has been revoked');
  }

  /** When a family began, while it lives (its record not expired, the family not revoked). */
  async liveFamily(familyId: string): Promise<{ createdAt: number } | undefined> {
    const family = await this.opts.store.get<FamilyRecord>(`fam:${familyId}`);
    if (!family || (await this.opts.revocations.isFamilyRevoked(familyId))) return undefined;
    return { createdAt: family.createdAt };
  }

  /** Revokes every token of the family: the live refresh token and (through the revocation list) its access tokens. */
  async revokeFamily(familyId: string): Promise<void> {
    const family = await this.opts.store.get<FamilyRecord>(`fam:${familyId}`);
    await this.opts.revocations.revokeFamily(familyId, this.opts.ttlMs + this.opts.accessTokenTtlMs);
    if (family?.currentHash) await this.opts.store.delete(`rt:${family.currentHash}`);
  }

  /** RFC 7009 for a refresh token: revokes its family. Returns the record when the token was live. */
  async revoke(token: string, clientId: string): Promise<RefreshTokenRecord | undefined> {
    const record = await this.peek(token);
    if (!record || record.clientId !== clientId) return undefined;
    await this.revokeFamily(record.familyId);
    return record;
  }
}
