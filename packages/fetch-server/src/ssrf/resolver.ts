// The resolver contract is shared with gateway-kit (inlined from @mcp-gateway/internal at build time).
export { systemResolver, type Resolver, type ResolvedAddress } from '@mcp-gateway/internal/resolver';
