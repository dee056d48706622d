/** Responses whose body the node edge may write in one piece (`@mcp-gateway/internal/known-body`). */
export { bodyResponse, knownBody } from '@mcp-gateway/internal/known-body';
