// A child's process group is signalled only while it can still be ours. Once the leader has exited
// and its group is empty, the number is free: the kernel may give it to any new process group (on a
// busy host, soon: pid_max is often 32768), and a late SIGKILL to it would end an unrelated
// process. So the group is killed once, as the leader exits (grandchildren go with it), and never
// after: kill() and killNow() of an exited child send nothing.
import { isPidAlive, waitFor } from '@mcp-gateway/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChildProcess } from '../src/child-process.js';

const spec = (script: string) => ({
  command: process.execPath,
  args: ['-e', script],
  env: process.env,
  maxLineBytes: 1 << 20,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('child process groups: signalled while they are ours, never after', () => {
  it('a grandchild that outlives the leader is killed as the leader exits', async () => {
    // The leader starts a long-running grandchild in its own group, prints its pid and exits.
    const child = new ChildProcess(
      spec(
        "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setTimeout(() => process.exit(0), 50);",
      ),
      Date.now(),
    );
    let grandchild = 0;
    child.onLine = (line) => (grandchild = Number(line.toString()));
    await child.exited;
    expect(grandchild).toBeGreaterThan(0);
    await waitFor(() => !isPidAlive(grandchild), { timeoutMs: 5_000 });
  });

  it('kill() and killNow() of a child that has exited send no signal to its old group', async () => {
    const child = new ChildProcess(spec('process.exit(0)'), Date.now());
    await child.exited;
    const kill = vi.spyOn(process, 'kill');
    await child.kill(1_000);
    child.killNow();
    expect(kill.mock.calls.filter(([pid]) => pid === -child.pid)).toEqual([]);
  });

  it('a live child is still ended by kill(): SIGTERM to its group', async () => {
    const child = new ChildProcess(spec('setInterval(() => {}, 1000)'), Date.now());
    const kill = vi.spyOn(process, 'kill');
    const exit = await child.kill(5_000);
    expect(exit.signal).toBe('SIGTERM');
    expect(kill.mock.calls[0]).toEqual([-child.pid, 'SIGTERM']);
  });
});
