/** The prefix of every environment variable the proxy CLI reads. */
export const ENV_PREFIX = 'MCP_PROXY_';

/** One CLI setting's environment variable: `MCP_PROXY_<name>`, and the unprefixed name read when it is unset. */
export interface EnvVar {
  /** The name after {@link ENV_PREFIX}, e.g. `PORT` for `MCP_PROXY_PORT`. */
  name: string;
  /** The unprefixed fallback (the Python original's or an earlier release's name), e.g. `MCP_PORT`. */
  fallback: string;
}

/**
 * The value of `MCP_PROXY_<name>`, else of the fallback. An empty variable
 * counts as unset, so the prefixed name wins whenever it has a value.
 */
export function readEnv(env: NodeJS.ProcessEnv, v: EnvVar): string | undefined {
  return env[ENV_PREFIX + v.name] || env[v.fallback] || undefined;
}
