/**
 * Tool name patterns of policy rules: a tool name, or a glob where `*` stands
 * for any run of characters (`*`, `fs_*`, `*_delete`). Tool names are MCP's:
 * letters, digits and `_ - . /`.
 */
export const TOOL_PATTERN = /^[A-Za-z0-9_.\-/*]{1,128}$/;

/** Whether a tool name matches; built once per rule. */
export type ToolMatcher = (tool: string) => boolean;

/** The matcher of `patterns` (any of them). Patterns must pass {@link TOOL_PATTERN}. */
export function toolMatcher(patterns: readonly string[]): ToolMatcher {
  if (patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*'));
  if (globs.length === 0) return (tool) => exact.has(tool);
  const escaped = globs.map((g) =>
    g
      .split('*')
      .map((part) => part.replace(/[.\-/]/g, '\\$&'))
      .join('.*'),
  );
  const re = new RegExp(`^(?:${escaped.join('|')})$`);
  return (tool) => exact.has(tool) || re.test(tool);
}
