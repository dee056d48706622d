/** The prefix of every environment variable the CLI reads. */
export const ENV_PREFIX = 'MCP_CLIENT_';

/** One setting's environment variable: `MCP_CLIENT_<name>`, and an older name read when it is unset. */
export interface EnvVar {
  /** The name after {@link ENV_PREFIX}, e.g. `URL` for `MCP_CLIENT_URL`. */
  name: string;
  /** A documented alias read when the prefixed variable is unset, e.g. `MCP_SERVER_URL`. */
  fallback?: string;
}

/**
 * The value of `MCP_CLIENT_<name>`, else of the fallback. An empty variable
 * counts as unset, so the prefixed name wins whenever it has a value.
 */
export function readEnv(env: NodeJS.ProcessEnv, v: EnvVar): string | undefined {
  return env[ENV_PREFIX + v.name] || (v.fallback ? env[v.fallback] : undefined) || undefined;
}
