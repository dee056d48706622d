import { ClientError, EXIT_CODES, UsageError } from '../errors.js';
import { toClientError } from '../http/mcp-errors.js';
import { createLogger, type LogLevel } from '../log.js';
import { doctor } from '../doctor.js';
import { COMMANDS, HELP, parseCli, withEnv, type CliFlags } from './args.js';
import { authCommand, testAuth } from './auth-commands.js';
import { runBridge } from './bridge-command.js';
import { resolveUrl, version, type CliIo, type Context } from './context.js';
import { callTool, mcpCommand } from './mcp-commands.js';
import { printDoctor } from './output.js';
import { parseCommand, parseHeaders, splitCommaPairs } from './values.js';

export type { CliIo } from './context.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];

async function dispatch(ctx: Context, words: string[]): Promise<number> {
  const [cmd, sub, ...rest] = words;
  switch (cmd) {
    case 'login':
    case 'status':
    case 'logout':
    case 'client':
      return authCommand(ctx, cmd, sub, rest);
    case 'tools':
    case 'resources':
    case 'prompts':
    case 'raw':
      return mcpCommand(ctx, cmd, sub, rest);
    case 'doctor': {
      const report = await doctor(ctx.url, ctx.flags.origin ? { origin: ctx.flags.origin } : {});
      printDoctor(ctx, report);
      return report.ok ? EXIT_CODES.ok : EXIT_CODES.server;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}; commands: ${COMMANDS.join(', ')}`);
  }
}

/** Translates the Python original's flags into a command. */
function compatCommand(f: CliFlags): string[] | undefined {
  if (f['list-tools']) return ['tools', 'list'];
  if (f['list-resources']) return ['resources', 'list'];
  if (f['list-prompts']) return ['prompts', 'list'];
  if (f['reset-auth']) return ['logout'];
  if (f['get-client-info']) return ['client', 'info'];
  if (f['delete-client']) return ['client', 'delete'];
  if (f['update-client'] !== undefined) return ['client', 'update', ...splitCommaPairs(f['update-client'])];
  if (f.raw !== undefined) return ['raw', f.raw];
  return undefined;
}

/**
 * Runs the CLI with `argv` (without `node script`). Resolves with the exit
 * code; never calls `process.exit` itself except on a signal in bridge mode.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let json = false;
  try {
    const parsed = parseCli(argv);
    const flags = withEnv(parsed.flags, io.env);
    const { positionals } = parsed;
    json = Boolean(flags.json);
    if (flags.help) {
      io.stdout.write(HELP);
      return EXIT_CODES.ok;
    }
    if (flags.version) {
      io.stdout.write(`${version()}\n`);
      return EXIT_CODES.ok;
    }
    const level = flags['log-level']?.toLowerCase() ?? 'warn';
    if (!LOG_LEVELS.includes(level))
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    const log = createLogger(level as LogLevel, (line) => void io.stderr.write(line));
    const words = compatCommand(flags) ?? positionals;
    const url = resolveUrl(flags, io.env, words[0] === 'doctor' ? words[1] : undefined);
    const ctx: Context = {
      flags,
      io,
      url,
      log,
      headers: parseHeaders(flags.header ?? [], io.env),
      out(human, value) {
        io.stdout.write((json ? JSON.stringify(value, null, 2) : human) + '\n');
      },
    };
    if (flags.token && flags.oauth2) throw new UsageError('--token and --oauth2 exclude each other');
    if (flags.command !== undefined) {
      const { name, args } = parseCommand(flags.command);
      return await callTool(ctx, name, {
        ...(args.kind === 'json' ? { json: args.value } : {}),
        ...(args.kind === 'pairs' ? { pairs: args.pairs } : {}),
        ...(args.kind === 'single' ? { single: args.value } : {}),
      });
    }
    if (flags['test-auth']) return await testAuth(ctx);
    if (!words.length) return await runBridge(ctx);
    return await dispatch(ctx, words);
  } catch (err) {
    const e = err instanceof ClientError ? err : toClientError(err, '');
    io.stderr.write(`error: ${e.message}\n`);
    if (e instanceof UsageError) io.stderr.write('(see mcp-streamablehttp-client --help)\n');
    if (json)
      io.stdout.write(
        JSON.stringify({ error: { kind: e.kind, code: e.code, message: e.message } }, null, 2) + '\n',
      );
    return e.exitCode;
  }
}
