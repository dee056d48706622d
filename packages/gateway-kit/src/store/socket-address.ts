/**
 * Where to `listen` or `connect` for a unix socket whose path is too long for one. `bind` and
 * `connect` take at most {@link MAX_SOCKET_PATH} bytes (`sun_path`); every other file operation
 * takes the real path whatever its length. On Linux a process may name the socket through its
 * folder open as a descriptor, `/proc/self/fd/<fd>/<name>`: the kernel follows that link to the
 * real folder, so the socket file is still made (or found) at the real path, and every process
 * agrees on where it is.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Longest unix socket path Linux and macOS accept (`sun_path` less its terminating NUL). */
export const MAX_SOCKET_PATH = 103;

/** Where Linux lists a process's open descriptors, each a link to what it is open on. */
const PROC_SELF_FD = '/proc/self/fd';

/** Digits of the largest descriptor number, so that whether a path fits does not hang on the number a process gets. */
const FD_DIGITS = 10;

export interface SocketAddressOptions {
  /** The folder listing this process's open descriptors (default `/proc/self/fd`); none there means no short address. */
  fdDir?: string;
}

/** A path to give `listen` or `connect` for a socket file. */
export interface SocketAddress {
  /** The socket's real path when it fits, else `<fdDir>/<fd>/<name>`. */
  readonly path: string;
  /**
   * Closes the folder's descriptor (nothing to close for the real path); safe to call twice.
   * A listener must keep it until it has closed: libuv removes the socket file through this path.
   */
  release(this: void): void;
}

/** `<fdDir>/<fd>/<name>` for the socket at `socketPath`. */
const shortPath = (fdDir: string, fd: string, socketPath: string) =>
  `${fdDir}/${fd}/${path.basename(socketPath)}`;

/**
 * Whether the socket at `socketPath` can be listened or connected on: its path fits, or it is
 * reachable through `/proc/self/fd` (Linux) with a name short enough for that. Decided from the
 * path and platform alone, so that every process answers alike.
 */
export function socketAddressable(
  socketPath: string,
  { fdDir = PROC_SELF_FD }: SocketAddressOptions = {},
): boolean {
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH) return true;
  return (
    Buffer.byteLength(shortPath(fdDir, '9'.repeat(FD_DIGITS), socketPath)) <= MAX_SOCKET_PATH &&
    existsSync(fdDir)
  );
}

/**
 * The path to listen or connect on for the socket at `socketPath`: itself when it fits, else
 * (see {@link socketAddressable}) one through its folder opened here, closed by `release()`.
 * `undefined` when it is too long and the platform has no `/proc/self/fd` (macOS): then the
 * socket cannot be used. Throws when the folder cannot be opened.
 */
export function socketAddress(
  socketPath: string,
  options: SocketAddressOptions = {},
): SocketAddress | undefined {
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH) return { path: socketPath, release: () => {} };
  if (!socketAddressable(socketPath, options)) return undefined;
  const fd = openSync(path.dirname(socketPath), 'r');
  let open = true;
  return {
    path: shortPath(options.fdDir ?? PROC_SELF_FD, String(fd), socketPath),
    release() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * Connects to the unix socket at `socketPath`, through {@link socketAddress}; `undefined` when it
 * cannot be addressed (or its folder opened). The folder's descriptor is closed as soon as the
 * connection is made or fails: only `connect` reads the path.
 */
export function connectSocket(socketPath: string): net.Socket | undefined {
  let address: SocketAddress | undefined;
  try {
    address = socketAddress(socketPath);
  } catch {
    return undefined;
  }
  if (!address) return undefined;
  const socket = net.connect(address.path);
  // An error is followed by `close`.
  socket.once('connect', address.release);
  socket.once('close', address.release);
  return socket;
}
