/**
 * SEP-2243 custom headers of a member's `tools/call`: a 2026-07-28 member's tool
 * may mark arguments with `x-mcp-header: "<Name>"` in its `inputSchema`, and its
 * client (here the federated endpoint) MUST mirror each such argument into an
 * `Mcp-Param-<Name>` header (a conforming member answers `400`/`-32020` when one
 * is missing). The declarations are read from the member's `tools/list` with the
 * shared vocabulary (`@mcp-gateway/internal/mcp-param-headers`), the same our
 * client sends by and our bridge checks by.
 *
 * The endpoint's own decision: a tool whose declarations are invalid stays in the
 * merged list (its callers' clients judge it; a 2025 caller never looks), and its
 * usable declarations are mirrored all the same.
 *
 * The same declarations are the server side's check of a 2026-07-28 caller's own
 * `Mcp-Param-*` headers (`endpoint.ts`), as the bridge checks its clients'.
 */
import {
  paramHeaderValues,
  parseParamHeaders,
  type ParamHeader,
} from '@mcp-gateway/internal/mcp-param-headers';
import type { Merged } from './names.js';

const NONE: readonly ParamHeader[] = [];

/**
 * The declarations of the members' tools, as their last `tools/list` showed them (whoever
 * asked): each member's map replaced by its next list; only tools that declare any are kept.
 */
export class MemberParamHeaders {
  private readonly byService = new Map<string, Map<string, readonly ParamHeader[]>>();

  /** Learns the declarations of a merged tool list (`items` as shown, `owners` by shown name). */
  learn(merged: Merged<Record<string, unknown>>): void {
    const listed = new Map<string, Map<string, readonly ParamHeader[]>>();
    for (const owner of merged.owners.values())
      if (!listed.has(owner.service)) listed.set(owner.service, new Map());
    for (const tool of merged.items) {
      const owner = typeof tool.name === 'string' ? merged.owners.get(tool.name) : undefined;
      if (!owner) continue;
      const { params } = parseParamHeaders(tool.inputSchema);
      if (params.length > 0) listed.get(owner.service)!.set(owner.original, params);
    }
    for (const [service, tools] of listed) this.byService.set(service, tools);
  }

  /**
   * The declarations of `service`'s tool `tool` (empty when it declares none), as the last
   * list showed them; `undefined` when no list showed any tool of `service` yet.
   */
  declared(service: string, tool: string): readonly ParamHeader[] | undefined {
    const tools = this.byService.get(service);
    return tools && (tools.get(tool) ?? NONE);
  }

  /** The `Mcp-Param-*` headers of a call of `service`'s tool `tool` with `args` (none when it declares none). */
  headers(service: string, tool: string, args: unknown): Record<string, string> | undefined {
    const declared = this.byService.get(service)?.get(tool);
    return declared ? paramHeaderValues(declared, args) : undefined;
  }
}
