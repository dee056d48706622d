/** What every command takes: its flags and where it writes. Kept apart from `main.ts` so commands do not import the entry. */

/** Output sinks, injectable for tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Flags shared by the commands. */
export interface CliFlags {
  config?: string;
  out?: string;
  force?: boolean;
  password?: string;
  name?: string;
  user?: string;
  service?: string;
  scope?: string;
  json?: boolean;
  host?: string;
  port?: string;
}
