/**
 * Workload identity federation (MCP SEP-1933): the workload's platform
 * (Kubernetes, a CI system, a cloud) gives it a JWT, which it presents to the
 * authorization server with the RFC 7523 JWT-bearer grant instead of a
 * browser sign-in or a client secret.
 */
import { open } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/** Largest workload token file read (a JWT is a few KiB). */
export const MAX_WORKLOAD_TOKEN_BYTES = 64 * 1024;

/**
 * Where the workload's JWT comes from: a file (read again on every token
 * request, since platforms rotate it in place), or a function.
 */
export type WorkloadTokenSource = { file: string } | (() => string | Promise<string>);

/** The current workload JWT. Error messages never include the token. */
export async function readWorkloadToken(source: WorkloadTokenSource): Promise<string> {
  if (typeof source === 'function') return (await source()).trim();
  let handle;
  try {
    handle = await open(source.file, 'r');
  } catch (err) {
    throw new UsageError(
      `workload token ${source.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  try {
    if ((await handle.stat()).size > MAX_WORKLOAD_TOKEN_BYTES)
      throw new UsageError(`workload token ${source.file} is larger than ${MAX_WORKLOAD_TOKEN_BYTES} bytes`);
    const token = (await handle.readFile('utf8')).trim();
    if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token))
      throw new UsageError(`workload token ${source.file} does not hold a JWT`);
    return token;
  } finally {
    await handle.close();
  }
}
