// Starting and stopping the servers a suite measures: `node <args>` in a
// process group of its own (testkit's spawnCli), ended with the whole group.
import { spawnCli, type SpawnedCli } from '@mcp-gateway/testkit';

/** Starts `node <args>` (children and all end with {@link stopServer}). */
export const startServer = (
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnedCli => spawnCli(process.execPath, args, opts);

/** SIGTERM to the server's process group, SIGKILL after 5 s; resolves when it has exited. */
export const stopServer = (server: SpawnedCli): Promise<void> => server.kill(5_000);
