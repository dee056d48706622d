import pkg from '../package.json' with { type: 'json' };

/** This package's version. */
export const VERSION: string = pkg.version;

/** The implementation name in `serverInfo` (both eras). */
export const SERVER_NAME = 'mcp-gateway-fetch';

/** Where the default User-Agent points site owners to. */
export const PROJECT_URL = 'https://github.com/mcp-gateway/mcp-gateway';

/**
 * The default `User-Agent`: names the project and its URL, as RFC 9309
 * crawlers should. robots.txt rules are matched on its product token
 * `mcp-gateway-fetch`.
 */
export const DEFAULT_USER_AGENT = `mcp-gateway-fetch/${VERSION} (+${PROJECT_URL})`;
