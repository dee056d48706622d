/** A stand-in for the platform's URL opener that records how it was started. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@mcp-gateway/testkit';

/** One run of the recording opener: the program name it was started as, and its arguments. */
export interface OpenerCall {
  program: string;
  args: string[];
}

/**
 * Writes an `xdg-open` into `dir` (put `dir` on `PATH`; `script` also serves as `$BROWSER`) that
 * appends each call's program name and arguments to a log, one JSON line per call, and exits 0.
 */
export async function recordingOpener(dir: string) {
  const log = path.join(dir, 'calls.jsonl');
  const script = path.join(dir, 'xdg-open');
  const body = `#!${process.execPath}
require('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify({ program: require('node:path').basename(process.argv[1]), args: process.argv.slice(2) }) + '\\n');
`;
  await fs.writeFile(script, body, { mode: 0o755 });
  const calls = async (): Promise<OpenerCall[]> =>
    (await fs.readFile(log, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OpenerCall);
  /** The calls, once there is one. */
  const ran = () =>
    waitFor(async () => ((await calls()).length ? calls() : undefined), { message: 'the opener never ran' });
  return { dir, script, calls, ran };
}
