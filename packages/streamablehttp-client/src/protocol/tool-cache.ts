import type { ToolHeaderMap } from './tool-headers.js';

/** Most tools whose `x-mcp-header` declarations one client remembers (the oldest go first). */
export const MAX_KNOWN_TOOLS = 1000;

/**
 * How long a `tools/list` read through to its last page answers for tools it
 * did not list: calls of such a tool within it go without `Mcp-Param-*`
 * headers and without reading the list again (a server that does know the tool
 * answers -32020, and the client reads the list then).
 */
export const UNKNOWN_TOOL_TTL_MS = 60_000;

/**
 * What a client knows of a server's tools for SEP-2243: each tool's
 * `Mcp-Param-*` declarations, or why it is excluded; and when the list was
 * last read through. Bounded; forgotten as a whole when the server announces
 * `notifications/tools/list_changed`.
 */
export class ToolCache {
  private readonly tools = new Map<string, ToolHeaderMap | string>();
  private listedAt: number | undefined;

  constructor(
    private readonly limit = MAX_KNOWN_TOOLS,
    private readonly ttlMs = UNKNOWN_TOOL_TTL_MS,
  ) {}

  get(name: string): ToolHeaderMap | string | undefined {
    return this.tools.get(name);
  }

  set(name: string, entry: ToolHeaderMap | string): void {
    this.tools.delete(name);
    this.tools.set(name, entry);
    if (this.tools.size > this.limit) this.tools.delete(this.tools.keys().next().value!);
  }

  delete(name: string): void {
    this.tools.delete(name);
  }

  /** The list was read through to its last page now. */
  listed(): void {
    this.listedAt = Date.now();
  }

  /** True while the last read-through is recent enough to answer for tools it did not list. */
  listedRecently(): boolean {
    return this.listedAt !== undefined && Date.now() - this.listedAt < this.ttlMs;
  }

  /** Forgets everything (the server's tools changed). */
  clear(): void {
    this.tools.clear();
    this.listedAt = undefined;
  }
}
