import type { Clock } from '../clock.js';
import { base64url } from '../ids.js';
import type { Store } from '../store/types.js';

/**
 * What a user has allowed a client: the consented scopes on each resource, and
 * the token families issued under it. One grant per (user, client); consent
 * is remembered here and withdrawn by revoking the grant.
 */
export interface Grant {
  id: string;
  sub: string;
  clientId: string;
  /** Consented scopes (union over every consent the user gave this client; for display, not for decisions). */
  scopes: string[];
  /** Consented resources (canonical). */
  resources: string[];
  /**
   * The scopes consented on each resource (canonical): what {@link Grants.covers} decides on.
   * Absent on grants stored before it existed: such a grant covers only the one resource it names, if it names one.
   */
  scopesByResource?: Record<string, string[]>;
  login?: string;
  name?: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * The scopes consented on each resource. A grant stored before consent was
 * recorded per resource has only the unions: they pair unambiguously when it
 * names one resource; with several it vouches for nothing (consent is asked
 * again, and the answer starts the per-resource record).
 */
function byResource(grant: Grant | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (grant?.scopesByResource) {
    for (const [resource, scopes] of Object.entries(grant.scopesByResource)) out[resource] = [...scopes];
  } else if (grant?.resources.length === 1) {
    out[grant.resources[0]!] = [...grant.scopes];
  }
  return out;
}

async function grantId(sub: string, clientId: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${sub}\u0000${clientId}`));
  return base64url(new Uint8Array(digest)).slice(0, 32);
}

/** Grant records with per-user and per-client indexes, in the store. */
export class Grants {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The grant of `sub` to `clientId`, if any. */
  async find(sub: string, clientId: string): Promise<Grant | undefined> {
    return this.store.get<Grant>(`grant:${await grantId(sub, clientId)}`);
  }

  async get(id: string): Promise<Grant | undefined> {
    return this.store.get<Grant>(`grant:${id}`);
  }

  /**
   * Whether the grant already covers `scopes` on `resource` (consent can be
   * skipped): every scope must have been consented on that resource, not
   * merely on some resource of the grant.
   */
  static covers(grant: Grant | undefined, scopes: string[], resource: string): boolean {
    const approved = byResource(grant);
    return Object.hasOwn(approved, resource) && scopes.every((s) => approved[resource]!.includes(s));
  }

  /** Records consent for `scopes` on `resource`, merging with what was consented before (per resource). */
  async consent(input: {
    sub: string;
    clientId: string;
    scopes: string[];
    resource: string;
    login?: string;
    name?: string;
  }): Promise<Grant> {
    const id = await grantId(input.sub, input.clientId);
    const now = this.clock.now();
    const prev = await this.store.get<Grant>(`grant:${id}`);
    const scopesByResource = byResource(prev);
    const before = Object.hasOwn(scopesByResource, input.resource) ? scopesByResource[input.resource]! : [];
    scopesByResource[input.resource] = [...new Set([...before, ...input.scopes])];
    const grant: Grant = {
      id,
      sub: input.sub,
      clientId: input.clientId,
      scopes: [...new Set([...(prev?.scopes ?? []), ...input.scopes])],
      resources: [...new Set([...(prev?.resources ?? []), input.resource])],
      scopesByResource,
      login: input.login ?? prev?.login,
      name: input.name ?? prev?.name,
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
    };
    await this.store.set(`grant:${id}`, grant);
    await Promise.all([
      this.store.addToSet(`grants:user:${input.sub}`, id),
      this.store.addToSet(`grants:client:${input.clientId}`, id),
    ]);
    return grant;
  }

  /** Remembers that `familyId` was issued under the grant, so revoking the grant revokes it. */
  async addFamily(grantId: string, familyId: string): Promise<void> {
    await this.store.addToSet(`grant:${grantId}:families`, familyId);
  }

  /** Forgets a family of the grant (it expired or was revoked). */
  async removeFamily(grantId: string, familyId: string): Promise<void> {
    await this.store.removeFromSet(`grant:${grantId}:families`, familyId);
  }

  async families(grantId: string): Promise<string[]> {
    return this.store.members(`grant:${grantId}:families`);
  }

  /** Every grant of a user. */
  async listByUser(sub: string): Promise<Grant[]> {
    return this.load(await this.store.members(`grants:user:${sub}`));
  }

  /** Every grant given to a client. */
  async listByClient(clientId: string): Promise<Grant[]> {
    return this.load(await this.store.members(`grants:client:${clientId}`));
  }

  private async load(ids: string[]): Promise<Grant[]> {
    const grants = await Promise.all(ids.map((id) => this.get(id)));
    return grants.filter((g): g is Grant => g !== undefined).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Deletes the grant and its indexes; returns the family ids to revoke. */
  async remove(grant: Grant): Promise<string[]> {
    const families = await this.families(grant.id);
    await Promise.all([
      this.store.delete(`grant:${grant.id}`),
      this.store.delete(`grant:${grant.id}:families`),
      this.store.removeFromSet(`grants:user:${grant.sub}`, grant.id),
      this.store.removeFromSet(`grants:client:${grant.clientId}`, grant.id),
    ]);
    return families;
  }
}
