import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI_OPTIONS, COMMANDS, HELP } from '../src/cli/args.js';
import { EXIT_CODES } from '../src/index.js';
import { cli } from './helpers/cli.js';

const readme = readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md'),
  'utf8',
);
const docs = { README: readme, '--help': HELP };

const longFlagsIn = (text: string) =>
  new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('CLI documentation matches the parser', () => {
  for (const [name, text] of Object.entries(docs)) {
    it(`docs: ${name} names every flag the parser accepts (long and short forms), and no flag it does not`, () => {
      const mentioned = longFlagsIn(text);
      expect(Object.keys(CLI_OPTIONS).filter((flag) => !mentioned.has(flag))).toEqual([]);
      expect([...mentioned].filter((flag) => !(flag in CLI_OPTIONS))).toEqual([]);
      const shorts = Object.values(CLI_OPTIONS).flatMap((o) => ('short' in o ? [o.short] : []));
      expect(shorts.length).toBeGreaterThan(0);
      expect(shorts.filter((s) => !new RegExp(`(?<![\\w-])-${s}(?![\\w-])`).test(text))).toEqual([]);
    });
  }

  it('docs: README and --help list every command', () => {
    const inReadme = (c: string) => new RegExp(`^\\| \`${escape(c)}\\b`, 'm').test(readme);
    const inHelp = (c: string) =>
      new RegExp(`^ {2}mcp-streamablehttp-client (?:[a-z]+\\|)*${escape(c)}\\b`, 'm').test(HELP);
    expect(COMMANDS.filter((c) => !inReadme(c))).toEqual([]);
    expect(COMMANDS.filter((c) => !inHelp(c))).toEqual([]);
  });

  it('cli: --help prints the help and exits 0; an unknown command is a usage error (exit 2) listing the commands', async () => {
    const help = await cli(['--help']);
    expect(help).toEqual({ code: EXIT_CODES.ok, stdout: HELP, stderr: '' });
    const unknown = await cli(['frobnicate', '--url', 'http://127.0.0.1:9/mcp']);
    expect(unknown.code).toBe(EXIT_CODES.usage);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(
      `error: unknown command "frobnicate"; commands: ${COMMANDS.join(', ')}\n(see mcp-streamablehttp-client --help)\n`,
    );
  });
});
