/**
 * `--client-credentials-file`: a JSON file with a pre-registered client's
 * credentials and, for cross-app access, the enterprise IdP's settings. The
 * field names are those of the MCP conformance suite's
 * `MCP_CONFORMANCE_CONTEXT`, so its context can be saved and used as is;
 * unknown fields are ignored.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors.js';

/** Largest credentials or key file read (a key or a token is a few KiB). */
export const MAX_CREDENTIALS_FILE_BYTES = 64 * 1024;

const text = z.string().min(1);

/** What the file may hold. */
export const CredentialsFileSchema = z.looseObject({
  client_id: text.optional(),
  client_secret: text.optional(),
  /** PEM private key for `private_key_jwt`. */
  private_key_pem: text.optional(),
  /** JWK private key for `private_key_jwt` (object or JSON text). */
  private_key_jwk: z.union([z.record(z.string(), z.unknown()), text]).optional(),
  /** JWS algorithm of the client assertion (e.g. ES256). */
  signing_algorithm: text.optional(),
  idp_issuer: text.optional(),
  idp_token_endpoint: z.url().optional(),
  idp_client_id: text.optional(),
  idp_client_secret: text.optional(),
  /** The user's ID token at the IdP (the RFC 8693 subject token). */
  idp_id_token: text.optional(),
});
export type CredentialsFile = z.infer<typeof CredentialsFileSchema>;

/** Reads a small file, refusing one larger than {@link MAX_CREDENTIALS_FILE_BYTES}. */
export function readSmallFile(file: string, flag: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    if (fstatSync(fd).size > MAX_CREDENTIALS_FILE_BYTES)
      throw new UsageError(`${flag} ${file} is larger than ${MAX_CREDENTIALS_FILE_BYTES} bytes`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads and validates a credentials file. Error messages never include values. */
export function readCredentialsFile(file: string): CredentialsFile {
  const raw = readSmallFile(file, '--client-credentials-file');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new UsageError(`--client-credentials-file ${file} is not JSON`);
  }
  const parsed = CredentialsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(
      `--client-credentials-file ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}
