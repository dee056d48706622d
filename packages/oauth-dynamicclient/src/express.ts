/** `@mcp-gateway/oauth-dynamicclient/express`: bearer-token middleware and RFC 9728 document for Express. */
export * from './resource/express.js';
