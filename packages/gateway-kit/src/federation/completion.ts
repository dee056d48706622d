/**
 * `completion/complete` on a federated endpoint: routed to the member that
 * owns the reference (a prompt by its shown name, sent under the member's own;
 * a resource template by its URI, which is not rewritten), and the
 * `completions` capability declared only when a member declares it (learnt
 * from the members' `server/discover`, remembered for a while).
 */
import type { Ask, Catalogs } from './catalog.js';
import type { MemberReply } from './member.js';
import { templateMatcher, type Owner } from './names.js';

/** How long a member's declared capabilities are remembered, in ms. */
export const CAPABILITIES_TTL_MS = 5 * 60_000;

/** A request as far as routing a completion needs it. */
interface CompletionRequest {
  params: Record<string, unknown>;
  identity: { sub: string };
}

/** What routing a completion needs of the endpoint (`FederatedEndpoint`). */
export interface CompletionRouting<R extends CompletionRequest> {
  catalogs: Catalogs;
  ownerOf(
    kind: 'prompts',
    name: string,
    req: R,
    members: string[],
    ask: Ask,
  ): Owner | undefined | Promise<Owner | undefined>;
}

const invalid = (message: string): MemberReply => ({ error: { code: -32602, message } });

/** Which members declare `completions`, from their `server/discover` answers. */
export class MemberCompletions {
  private readonly known = new Map<string, { completions: boolean; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when at least one of `members` declares `completions` (a member that fails counts as not). */
  async offered(members: readonly string[], ask: Ask): Promise<boolean> {
    const answers = await Promise.all(members.map((service) => this.declares(service, ask)));
    return answers.includes(true);
  }

  private async declares(service: string, ask: Ask): Promise<boolean> {
    const k = this.known.get(service);
    if (k && k.expires > this.now()) return k.completions;
    const reply = await ask(service, 'server/discover', {});
    if ('error' in reply) return false;
    const caps = reply.result.capabilities;
    const completions = typeof caps === 'object' && caps !== null && 'completions' in caps;
    this.known.set(service, { completions, expires: this.now() + CAPABILITIES_TTL_MS });
    return completions;
  }
}

/** The owner of a resource reference: the member listing the template, one whose template matches, or listing the URI. */
async function resourceOwner(
  endpoint: { catalogs: Catalogs },
  uri: string,
  user: string,
  members: readonly string[],
  ask: Ask,
): Promise<Owner | undefined> {
  const templates = await endpoint.catalogs.routing('resourceTemplates', user, members, ask);
  const exact = templates.owners.get(uri);
  if (exact) return exact;
  for (const [template, owner] of templates.owners) if (templateMatcher(template).test(uri)) return owner;
  return (await endpoint.catalogs.routing('resources', user, members, ask)).owners.get(uri);
}

/** Answers `completion/complete` by asking the reference's owner. */
export async function complete<R extends CompletionRequest>(
  endpoint: CompletionRouting<R>,
  req: R,
  members: string[],
  ask: Ask,
): Promise<MemberReply> {
  const ref = req.params.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
  if (typeof ref !== 'object' || ref === null) return invalid('Invalid params: ref must be an object');
  if (ref.type === 'ref/prompt') {
    if (typeof ref.name !== 'string') return invalid('Invalid params: ref.name must be a string');
    const owner = await endpoint.ownerOf('prompts', ref.name, req, members, ask);
    if (!owner) return invalid(`Unknown prompt: ${ref.name}`);
    return ask(owner.service, 'completion/complete', {
      ...req.params,
      ref: { ...ref, name: owner.original },
    });
  }
  if (ref.type === 'ref/resource') {
    if (typeof ref.uri !== 'string') return invalid('Invalid params: ref.uri must be a string');
    const owner = await resourceOwner(endpoint, ref.uri, req.identity.sub, members, ask);
    if (!owner) return { error: { code: -32002, message: `Resource not found: ${ref.uri}` } };
    return ask(owner.service, 'completion/complete', req.params);
  }
  return invalid('Invalid params: ref.type must be ref/prompt or ref/resource');
}
