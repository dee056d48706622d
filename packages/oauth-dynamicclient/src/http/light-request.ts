/**
 * Lazy requests from the node edge (`@mcp-gateway/internal/lazy-request`): the server's own
 * `fetch` declares it accepts them and calls {@link realRequest} before giving a request to code
 * it does not control.
 */
export {
  acceptLazyRequests as markLightRequestHandler,
  acceptsLazyRequests as acceptsLightRequests,
  realRequest,
} from '@mcp-gateway/internal/lazy-request';
