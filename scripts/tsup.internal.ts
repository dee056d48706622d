/**
 * `@mcp-gateway/internal` is never published: every package's tsup build inlines what it imports
 * from it, code (`noExternal`) and declarations (`dts.resolve`), so a published package imports
 * nothing of another (tests/internal-inlined.test.ts checks the built files).
 */
export const INTERNAL = /^@mcp-gateway\/internal(\/|$)/;
