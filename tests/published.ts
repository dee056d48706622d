/** The package folders under packages/ that are published to npm. */
export const PUBLISHED = [
  'oauth-dynamicclient',
  'streamablehttp-proxy',
  'streamablehttp-client',
  'fetch-server',
  'gateway-kit',
] as const;

/** Every published CLI: its package folder under packages/ and its bin name. */
export const CLIS = [
  { dir: 'gateway-kit', bin: 'mcp-gateway' },
  { dir: 'streamablehttp-proxy', bin: 'mcp-streamablehttp-proxy' },
  { dir: 'streamablehttp-client', bin: 'mcp-streamablehttp-client' },
  { dir: 'fetch-server', bin: 'mcp-fetch-server' },
] as const;
