import { parseArgs } from 'node:util';
import { z } from 'zod';
import { splitCommandLine } from './command-line.js';
import { readEnv, type EnvVar } from './env.js';
import { LOG_LEVELS } from './log.js';
import { MODERN_DEFAULTS } from './modern/index.js';
import { DEFAULTS, type StdioBridgeOptions } from './options.js';

/**
 * The environment variable of every CLI setting: `MCP_PROXY_<name>`, with the
 * unprefixed fallback (`MCP_BIND_HOST` and `MCP_PORT` are the Python
 * original's; the others are this CLI's earlier names). The README table
 * mirrors this list (a test checks it).
 */
export const CLI_ENV = {
  host: { name: 'HOST', fallback: 'MCP_BIND_HOST' },
  port: { name: 'PORT', fallback: 'MCP_PORT' },
  path: { name: 'PATH', fallback: 'MCP_PATH' },
  'session-timeout': { name: 'SESSION_TIMEOUT', fallback: 'SESSION_TIMEOUT' },
  'request-timeout': { name: 'REQUEST_TIMEOUT', fallback: 'REQUEST_TIMEOUT' },
  'max-request-timeout': { name: 'MAX_REQUEST_TIMEOUT', fallback: 'MAX_REQUEST_TIMEOUT' },
  'initialize-timeout': { name: 'INITIALIZE_TIMEOUT', fallback: 'INITIALIZE_TIMEOUT' },
  'max-sessions': { name: 'MAX_SESSIONS', fallback: 'MAX_SESSIONS' },
  'max-sessions-per-user': { name: 'MAX_SESSIONS_PER_USER', fallback: 'MAX_SESSIONS_PER_USER' },
  'max-in-flight-per-session': { name: 'MAX_IN_FLIGHT_PER_SESSION', fallback: 'MAX_IN_FLIGHT_PER_SESSION' },
  'pool-size': { name: 'POOL_SIZE', fallback: 'POOL_SIZE' },
  'json-response': { name: 'JSON_RESPONSE', fallback: 'JSON_RESPONSE' },
  'allowed-origins': { name: 'ALLOWED_ORIGINS', fallback: 'ALLOWED_ORIGINS' },
  'allowed-hosts': { name: 'ALLOWED_HOSTS', fallback: 'ALLOWED_HOSTS' },
  'env-from-header': { name: 'ENV_FROM_HEADERS', fallback: 'ENV_FROM_HEADERS' },
  'identity-header': { name: 'IDENTITY_HEADER', fallback: 'IDENTITY_HEADER' },
  'max-body-bytes': { name: 'MAX_BODY_BYTES', fallback: 'MAX_BODY_BYTES' },
  'memory-limit': { name: 'MEMORY_LIMIT', fallback: 'MEMORY_LIMIT' },
  'cpu-limit': { name: 'CPU_LIMIT', fallback: 'CPU_LIMIT' },
  'log-level': { name: 'LOG_LEVEL', fallback: 'LOG_LEVEL' },
  'max-modern-children': { name: 'MAX_MODERN_CHILDREN', fallback: 'MAX_MODERN_CHILDREN' },
  'max-modern-children-per-user': {
    name: 'MAX_MODERN_CHILDREN_PER_USER',
    fallback: 'MAX_MODERN_CHILDREN_PER_USER',
  },
  'max-modern-shared-per-child': {
    name: 'MAX_MODERN_SHARED_PER_CHILD',
    fallback: 'MAX_MODERN_SHARED_PER_CHILD',
  },
  'max-modern-queue-per-user': {
    name: 'MAX_MODERN_QUEUE_PER_USER',
    fallback: 'MAX_MODERN_QUEUE_PER_USER',
  },
  'modern-queue-timeout': { name: 'MODERN_QUEUE_TIMEOUT', fallback: 'MODERN_QUEUE_TIMEOUT' },
  'request-state-key': { name: 'REQUEST_STATE_KEY', fallback: 'REQUEST_STATE_KEY' },
  /** The command when none follows `--`. */
  command: { name: 'SERVER_COMMAND', fallback: 'SERVER_COMMAND' },
} as const satisfies Record<string, EnvVar>;

/** The CLI's `--help` text. */
export const HELP = `Usage: mcp-streamablehttp-proxy [options] -- <command> [args...]

Exposes a stdio MCP server over MCP Streamable HTTP, one child process per session.

Options (environment variable in brackets; a flag wins over it):
  --host <addr>              bind address [MCP_PROXY_HOST] (default 127.0.0.1)
  --port <n>                 port [MCP_PROXY_PORT] (default 3000)
  --path <path>              MCP endpoint path [MCP_PROXY_PATH] (default /mcp)
  --session-timeout <s>      idle seconds before a session ends [MCP_PROXY_SESSION_TIMEOUT] (default 1800)
  --request-timeout <s>      seconds a request may wait for its answer (progress restarts it), 0 = none [MCP_PROXY_REQUEST_TIMEOUT] (default 60)
  --max-request-timeout <s>  longest total wait of a request that reports progress [MCP_PROXY_MAX_REQUEST_TIMEOUT] (default 600)
  --initialize-timeout <s>   seconds a new session's child has to answer initialize [MCP_PROXY_INITIALIZE_TIMEOUT] (default 30)
  --max-sessions <n>         concurrent sessions, warm pool included [MCP_PROXY_MAX_SESSIONS] (default 100)
  --max-sessions-per-user <n>
                             concurrent sessions per --identity-header value, 0 = no cap [MCP_PROXY_MAX_SESSIONS_PER_USER] (default 5)
  --max-in-flight-per-session <n>
                             requests of one session waiting for its child; beyond, 429 [MCP_PROXY_MAX_IN_FLIGHT_PER_SESSION] (default 256)
  --pool-size <n>            pre-spawned children [MCP_PROXY_POOL_SIZE] (default 0)
  --json-response            answer with application/json instead of SSE [MCP_PROXY_JSON_RESPONSE=1]
  --allowed-origins <list>   comma-separated Origin allow-list, * for any [MCP_PROXY_ALLOWED_ORIGINS]
  --allowed-hosts <list>     comma-separated Host allow-list [MCP_PROXY_ALLOWED_HOSTS] (default: loopback when bound to loopback)
  --env-from-header <H=VAR>  pass request header H to the child as VAR; repeatable [MCP_PROXY_ENV_FROM_HEADERS, comma-separated]
  --identity-header <name>   bind each session to this header's value [MCP_PROXY_IDENTITY_HEADER]
  --max-body-bytes <n>       largest POST body [MCP_PROXY_MAX_BODY_BYTES] (default 4194304)
  --memory-limit <bytes>     per-child address-space limit via prlimit [MCP_PROXY_MEMORY_LIMIT]
  --cpu-limit <seconds>      per-child CPU-time limit via prlimit [MCP_PROXY_CPU_LIMIT]
  --log-level <level>        debug|info|warn|error|silent [MCP_PROXY_LOG_LEVEL] (default info)
  --max-modern-children <n>  children serving MCP 2026-07-28 requests, all users [MCP_PROXY_MAX_MODERN_CHILDREN] (default 20)
  --max-modern-children-per-user <n>
                             such children per --identity-header value [MCP_PROXY_MAX_MODERN_CHILDREN_PER_USER] (default 2)
  --max-modern-shared-per-child <n>
                             2026 requests one such child runs at once if their clients can be asked nothing [MCP_PROXY_MAX_MODERN_SHARED_PER_CHILD] (default 8)
  --max-modern-queue-per-user <n>
                             2026 requests of one user waiting for a busy child, 0 = 429 at once [MCP_PROXY_MAX_MODERN_QUEUE_PER_USER] (default 16)
  --modern-queue-timeout <seconds>
                             how long such a request waits before 429 [MCP_PROXY_MODERN_QUEUE_TIMEOUT] (default 30)
  --request-state-key <key>  HMAC key (32+ chars) of 2026 requestState, the same on every instance; prefer the
                             variable, a flag shows in ps [MCP_PROXY_REQUEST_STATE_KEY] (default: random per process)
  -h, --help                 show this help
  -v, --version              show the version

The command comes after --, or from MCP_PROXY_SERVER_COMMAND (split like a shell would).
Every MCP_PROXY_<NAME> falls back to an unprefixed name when unset (the prefixed one wins):
MCP_BIND_HOST, MCP_PORT (as in the Python original), MCP_PATH, and the bare <NAME> for the
others (e.g. SESSION_TIMEOUT, LOG_LEVEL, SERVER_COMMAND).

Examples:
  mcp-streamablehttp-proxy -- npx -y @modelcontextprotocol/server-memory
  MCP_PROXY_SERVER_COMMAND="uvx mcp-server-time" MCP_PROXY_HOST=0.0.0.0 mcp-streamablehttp-proxy`;

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
  maxInFlightPerSession: int('--max-in-flight-per-session', 1),
  poolSize: int('--pool-size', 0),
  maxBodyBytes: int('--max-body-bytes', 1),
  memoryLimit: int('--memory-limit', 1).optional(),
  cpuLimit: int('--cpu-limit', 1).optional(),
  logLevel: z.enum(LOG_LEVELS, { error: `--log-level must be one of ${LOG_LEVELS.join(', ')}` }),
  maxModernChildren: int('--max-modern-children', 1),
  maxModernChildrenPerUser: int('--max-modern-children-per-user', 1),
  maxModernSharedPerChild: int('--max-modern-shared-per-child', 1),
  maxModernQueuePerUser: int('--max-modern-queue-per-user', 0),
  modernQueueTimeout: int('--modern-queue-timeout', 1),
  requestStateKey: z.string().min(32, '--request-state-key must be at least 32 characters').optional(),
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
      'max-in-flight-per-session': { type: 'string' },
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
      'max-modern-children': { type: 'string' },
      'max-modern-children-per-user': { type: 'string' },
      'max-modern-shared-per-child': { type: 'string' },
      'max-modern-queue-per-user': { type: 'string' },
      'modern-queue-timeout': { type: 'string' },
      'request-state-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const e = (setting: keyof typeof CLI_ENV) => readEnv(env, CLI_ENV[setting]);
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
    host: values.host ?? e('host') ?? '127.0.0.1',
    port: values.port ?? e('port') ?? 3000,
    path: values.path ?? e('path') ?? DEFAULTS.path,
    sessionTimeout: values['session-timeout'] ?? e('session-timeout') ?? DEFAULTS.sessionTimeoutMs / 1000,
    requestTimeout: values['request-timeout'] ?? e('request-timeout') ?? DEFAULTS.requestTimeoutMs / 1000,
    maxRequestTimeout:
      values['max-request-timeout'] ?? e('max-request-timeout') ?? DEFAULTS.maxRequestTimeoutMs / 1000,
    initializeTimeout:
      values['initialize-timeout'] ?? e('initialize-timeout') ?? DEFAULTS.initializeTimeoutMs / 1000,
    maxSessions: values['max-sessions'] ?? e('max-sessions') ?? DEFAULTS.maxSessions,
    maxSessionsPerUser:
      values['max-sessions-per-user'] ?? e('max-sessions-per-user') ?? DEFAULTS.maxSessionsPerUser,
    maxInFlightPerSession:
      values['max-in-flight-per-session'] ?? e('max-in-flight-per-session') ?? DEFAULTS.maxInFlightPerSession,
    poolSize: values['pool-size'] ?? e('pool-size') ?? DEFAULTS.poolSize,
    maxBodyBytes: values['max-body-bytes'] ?? e('max-body-bytes') ?? DEFAULTS.maxBodyBytes,
    memoryLimit: values['memory-limit'] ?? e('memory-limit'),
    cpuLimit: values['cpu-limit'] ?? e('cpu-limit'),
    logLevel: values['log-level'] ?? e('log-level') ?? DEFAULTS.logLevel,
    envFromHeader: values['env-from-header'] ?? list(e('env-from-header')) ?? [],
    maxModernChildren:
      values['max-modern-children'] ?? e('max-modern-children') ?? MODERN_DEFAULTS.maxChildren,
    maxModernChildrenPerUser:
      values['max-modern-children-per-user'] ??
      e('max-modern-children-per-user') ??
      MODERN_DEFAULTS.maxChildrenPerUser,
    maxModernSharedPerChild:
      values['max-modern-shared-per-child'] ??
      e('max-modern-shared-per-child') ??
      MODERN_DEFAULTS.maxSharedPerChild,
    maxModernQueuePerUser:
      values['max-modern-queue-per-user'] ??
      e('max-modern-queue-per-user') ??
      MODERN_DEFAULTS.maxQueuedPerUser,
    modernQueueTimeout:
      values['modern-queue-timeout'] ?? e('modern-queue-timeout') ?? MODERN_DEFAULTS.queueTimeoutMs / 1000,
    requestStateKey: values['request-state-key'] ?? e('request-state-key'),
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  const c = parsed.data;
  let words = positionals;
  const serverCommand = e('command');
  if (words.length === 0 && serverCommand) words = splitCommandLine(serverCommand);
  const [command, ...args] = words;
  if (!command) throw new Error('no command: give one after -- or set MCP_PROXY_SERVER_COMMAND');
  const jsonEnv = e('json-response');
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
    maxInFlightPerSession: c.maxInFlightPerSession,
    poolSize: c.poolSize,
    jsonResponse: values['json-response'] ?? (jsonEnv === '1' || jsonEnv === 'true'),
    allowedOrigins: list(values['allowed-origins'] ?? e('allowed-origins')) ?? [],
    allowedHosts: list(values['allowed-hosts'] ?? e('allowed-hosts')),
    envFromHeaders: Object.fromEntries(c.envFromHeader.map((pair) => pair.split('=') as [string, string])),
    identity: values['identity-header'] ?? e('identity-header'),
    maxBodyBytes: c.maxBodyBytes,
    limits: c.memoryLimit || c.cpuLimit ? { memoryBytes: c.memoryLimit, cpuSeconds: c.cpuLimit } : undefined,
    logLevel: c.logLevel,
    modern: {
      maxChildren: c.maxModernChildren,
      maxChildrenPerUser: c.maxModernChildrenPerUser,
      maxSharedPerChild: c.maxModernSharedPerChild,
      maxQueuedPerUser: c.maxModernQueuePerUser,
      queueTimeoutMs: c.modernQueueTimeout * 1000,
      requestStateKey: c.requestStateKey,
    },
  };
  return { options, host: c.host, port: c.port };
}
