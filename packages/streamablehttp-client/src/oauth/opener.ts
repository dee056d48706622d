/**
 * Opening a URL in the system browser without a shell (MCP 2026-07-28 security best practices,
 * "Secure URL Opening": no `sh`, `cmd.exe` or PowerShell of ours sees the URL). The platform's
 * opener is started directly, the URL one argument of its own: `open` on macOS, `rundll32
 * url.dll,FileProtocolHandler` on Windows, `xdg-open` elsewhere (which honours `$BROWSER` when no
 * desktop is detected). Only URLs that passed `checkBrowserUrl` are given to it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** The program and its arguments that open `url` on `platform`; `url` is always one argument. */
export function openerCommand(
  url: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): [command: string, args: string[]] {
  if (platform === 'darwin') return ['/usr/bin/open', [url]];
  if (platform === 'win32') {
    // The absolute path: Windows would look for a bare `rundll32` in the current folder first.
    const system = path.win32.join(env.SystemRoot ?? env.windir ?? 'C:\\Windows', 'System32', 'rundll32.exe');
    return [system, ['url.dll,FileProtocolHandler', url]];
  }
  return ['xdg-open', [url]];
}

/**
 * Starts the platform's opener for `url` (see {@link openerCommand}) and does not wait for it;
 * `onFailure` hears why when it cannot start or exits non-zero.
 */
export function openUrl(url: URL, onFailure: (reason: string) => void): void {
  const [command, args] = openerCommand(url.href);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(command, args, { shell: false, stdio: 'ignore', detached: true, windowsHide: true });
  } catch (err) {
    onFailure(err instanceof Error ? err.message : String(err));
    return;
  }
  child.once('error', (err) => onFailure(err.message));
  child.once('exit', (code, signal) => {
    if (code) onFailure(`the opener exited with code ${code}`);
    else if (signal) onFailure(`the opener was ended by ${signal}`);
  });
  child.unref();
}
