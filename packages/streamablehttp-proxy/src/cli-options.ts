import { parseArgs } from 'node:util';
import { z } from 'zod';
import { splitCommandLine } from './command-line.js';
import { LOG_LEVELS } from './log.js';
import { DEFAULTS, type StdioBridgeOptions } from './options.js';

/** The CLI's `--help` text. */
export const HELP = `Usage: mcp-streamablehttp-proxy [options] -- <command> [args...]

Exposes a stdio MCP server over MCP Streamable HTTP, one child process per session.

Options (environment fallback in brackets):
  --host <addr>              bind address [MCP_BIND_HOST] (default 127.0.0.1)
  --port <n>                 port [MCP_PORT] (default 3000)
  --path <path>              MCP endpoint path [MCP_PATH] (default /mcp)
  --session-timeout <s>      idle seconds before a session ends [SESSION_TIMEOUT] (default 1800)
  --request-timeout <s>      seconds a request may wait for its answer (progress restarts it), 0 = none [REQUEST_TIMEOUT] (default 60)
  --max-request-timeout <s>  longest total wait of a request that reports progress [MAX_REQUEST_TIMEOUT] (default 600)
  --initialize-timeout <s>   seconds a new session's child has to answer initialize [INITIALIZE_TIMEOUT] (default 30)
  --max-sessions <n>         concurrent sessions, warm pool included [MAX_SESSIONS] (default 100)
  --max-sessions-per-user <n>
                             concurrent sessions per --identity-header value, 0 = no cap [MAX_SESSIONS_PER_USER] (default 5)
  --pool-size <n>            pre-spawned children [POOL_SIZE] (default 0)
  --json-response            answer with application/json instead of SSE [JSON_RESPONSE=1]
  --allowed-origins <list>   comma-separated Origin allow-list, * for any [ALLOWED_ORIGINS]
  --allowed-hosts <list>     comma-separated Host allow-list [ALLOWED_HOSTS] (default: loopback when bound to loopback)
  --env-from-header <H=VAR>  pass request header H to the child as VAR; repeatable [ENV_FROM_HEADERS, comma-separated]
  --identity-header <name>   bind each session to this header's value [IDENTITY_HEADER]
  --max-body-bytes <n>       largest POST body [MAX_BODY_BYTES] (default 4194304)
  --memory-limit <bytes>     per-child address-space limit via prlimit [MEMORY_LIMIT]
  --cpu-limit <seconds>      per-child CPU-time limit via prlimit [CPU_LIMIT]
  --log-level <level>        debug|info|warn|error|silent [LOG_LEVEL] (default info)
  -h, --help                 show this help
  -v, --version              show the version

The command comes after --, or from SERVER_COMMAND (split like a shell would).
Examples:
  mcp-streamablehttp-proxy -- npx -y @modelcontextprotocol/server-memory
  SERVER_COMMAND="uvx mcp-server-time" MCP_BIND_HOST=0.0.0.0 mcp-streamablehttp-proxy`;

const int = (name: string, min: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`);

const configSchema = z.object({
  host: z.string().min(1),
  port: int('--port', 0).max(65535, '--port must be at most 65535'),
  path: z.string().startsWith('/', '--path must start with /'),
  sessionTimeout: int('--session-timeout', 1),
  requestTimeout: int('--request-timeout', 0),
  maxRequestTimeout: int('--max-request-timeout', 1),
  initializeTimeout: int('--initialize-timeout', 1),
  maxSessions: int('--max-sessions', 1),
  maxSessionsPerUser: int('--max-sessions-per-user', 0),
  poolSize: int('--pool-size', 0),
  maxBodyBytes: int('--max-body-bytes', 1),
  memoryLimit: int('--memory-limit', 1).optional(),
  cpuLimit: int('--cpu-limit', 1).optional(),
  logLevel: z.enum(LOG_LEVELS, { error: `--log-level must be one of ${LOG_LEVELS.join(', ')}` }),
  envFromHeader: z.array(
    z
      .string()
      .regex(
        /^[!#$%&'*+.^_`|~0-9A-Za-z-]+=[A-Za-z_][A-Za-z0-9_]*$/,
        '--env-from-header must look like Header-Name=ENV_VAR',
      ),
  ),
});

/** Turns argv and the environment into bridge options; throws a user-facing Error on bad input. */
export function parseCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { options: StdioBridgeOptions; host: string; port: number } | 'help' | 'version' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      path: { type: 'string' },
      'session-timeout': { type: 'string' },
      'request-timeout': { type: 'string' },
      'max-request-timeout': { type: 'string' },
      'initialize-timeout': { type: 'string' },
      'max-sessions': { type: 'string' },
      'max-sessions-per-user': { type: 'string' },
      'pool-size': { type: 'string' },
      'json-response': { type: 'boolean' },
      'allowed-origins': { type: 'string' },
      'allowed-hosts': { type: 'string' },
      'env-from-header': { type: 'string', multiple: true },
      'identity-header': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'memory-limit': { type: 'string' },
      'cpu-limit': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  // An empty variable counts as unset.
  const e = (name: string) => env[name] || undefined;
  if (values.help) return 'help';
  if (values.version) return 'version';
  const list = (s: string | undefined) =>
    s === undefined
      ? undefined
      : s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
  const parsed = configSchema.safeParse({
    host: values.host ?? e('MCP_BIND_HOST') ?? '127.0.0.1',
    port: values.port ?? e('MCP_PORT') ?? 3000,
    path: values.path ?? e('MCP_PATH') ?? DEFAULTS.path,
    sessionTimeout: values['session-timeout'] ?? e('SESSION_TIMEOUT') ?? DEFAULTS.sessionTimeoutMs / 1000,
    requestTimeout: values['request-timeout'] ?? e('REQUEST_TIMEOUT') ?? DEFAULTS.requestTimeoutMs / 1000,
    maxRequestTimeout:
      values['max-request-timeout'] ?? e('MAX_REQUEST_TIMEOUT') ?? DEFAULTS.maxRequestTimeoutMs / 1000,
    initializeTimeout:
      values['initialize-timeout'] ?? e('INITIALIZE_TIMEOUT') ?? DEFAULTS.initializeTimeoutMs / 1000,
    maxSessions: values['max-sessions'] ?? e('MAX_SESSIONS') ?? DEFAULTS.maxSessions,
    maxSessionsPerUser:
      values['max-sessions-per-user'] ?? e('MAX_SESSIONS_PER_USER') ?? DEFAULTS.maxSessionsPerUser,
    poolSize: values['pool-size'] ?? e('POOL_SIZE') ?? DEFAULTS.poolSize,
    maxBodyBytes: values['max-body-bytes'] ?? e('MAX_BODY_BYTES') ?? DEFAULTS.maxBodyBytes,
    memoryLimit: values['memory-limit'] ?? e('MEMORY_LIMIT'),
    cpuLimit: values['cpu-limit'] ?? e('CPU_LIMIT'),
    logLevel: values['log-level'] ?? e('LOG_LEVEL') ?? DEFAULTS.logLevel,
    envFromHeader: values['env-from-header'] ?? list(e('ENV_FROM_HEADERS')) ?? [],
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  const c = parsed.data;
  let words = positionals;
  const serverCommand = e('SERVER_COMMAND');
  if (words.length === 0 && serverCommand) words = splitCommandLine(serverCommand);
  const [command, ...args] = words;
  if (!command) throw new Error('no command: give one after -- or set SERVER_COMMAND');
  const jsonEnv = e('JSON_RESPONSE');
  const options: StdioBridgeOptions = {
    command,
    args,
    path: c.path,
    sessionTimeoutMs: c.sessionTimeout * 1000,
    requestTimeoutMs: c.requestTimeout * 1000,
    maxRequestTimeoutMs: c.maxRequestTimeout * 1000,
    initializeTimeoutMs: c.initializeTimeout * 1000,
    maxSessions: c.maxSessions,
    maxSessionsPerUser: c.maxSessionsPerUser,
    poolSize: c.poolSize,
    jsonResponse: values['json-response'] ?? (jsonEnv === '1' || jsonEnv === 'true'),
    allowedOrigins: list(values['allowed-origins'] ?? e('ALLOWED_ORIGINS')) ?? [],
    allowedHosts: list(values['allowed-hosts'] ?? e('ALLOWED_HOSTS')),
    envFromHeaders: Object.fromEntries(c.envFromHeader.map((pair) => pair.split('=') as [string, string])),
    identity: values['identity-header'] ?? e('IDENTITY_HEADER'),
    maxBodyBytes: c.maxBodyBytes,
    limits: c.memoryLimit || c.cpuLimit ? { memoryBytes: c.memoryLimit, cpuSeconds: c.cpuLimit } : undefined,
    logLevel: c.logLevel,
  };
  return { options, host: c.host, port: c.port };
}
