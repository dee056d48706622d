/** `@mcp-gateway/oauth-dynamicclient/hono`: bearer-token middleware and RFC 9728 document for Hono. */
export * from './resource/hono.js';
