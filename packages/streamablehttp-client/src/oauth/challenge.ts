export { parseBearerChallenge, type BearerChallenge } from '@mcp-gateway/internal/bearer-challenge';
