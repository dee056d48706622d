import { z } from 'zod';

/** The format version written into every stored file. */
export const STORE_FORMAT_VERSION = 1;

/** How the client got its `client_id`. */
export const ClientSourceSchema = z.enum(['static', 'cimd', 'dcr']);

/** A client registration as stored. */
export const StoredClientSchema = z.looseObject({
  client_id: z.string().min(1),
  client_secret: z.string().optional(),
  client_secret_expires_at: z.number().optional(),
  /** RFC 7592 registration access token. */
  registration_access_token: z.string().optional(),
  /** RFC 7592 client configuration endpoint. */
  registration_client_uri: z.string().optional(),
  token_endpoint_auth_method: z.string().optional(),
  redirect_uris: z.array(z.string()).default([]),
  source: ClientSourceSchema,
});
export type StoredClient = z.infer<typeof StoredClientSchema>;

/** Tokens as stored. Times are milliseconds since the epoch. */
export const StoredTokensSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().default('bearer'),
  refresh_token: z.string().optional(),
  expires_at: z.number().optional(),
  scope: z.string().optional(),
  id_token: z.string().optional(),
  obtained_at: z.number(),
});
export type StoredTokens = z.infer<typeof StoredTokensSchema>;

/**
 * A DPoP (RFC 9449) key as stored with the credentials: the private JWK (it
 * carries the public part). Imported as a non-extractable key when loaded;
 * see `oauth/dpop.ts` for why it is stored at all.
 */
export const StoredDPoPKeySchema = z.object({
  alg: z.string().min(1),
  jwk: z.looseObject({ kty: z.string(), d: z.string() }),
});
export type StoredDPoPKey = z.infer<typeof StoredDPoPKeySchema>;

/** Everything kept for one (MCP server, authorization server) pair. */
export const StoredCredentialsSchema = z.object({
  version: z.literal(STORE_FORMAT_VERSION),
  server: z.string(),
  issuer: z.string(),
  /** RFC 8707 resource the tokens are for. */
  resource: z.string().optional(),
  client: StoredClientSchema.optional(),
  tokens: StoredTokensSchema.optional(),
  /** The DPoP key the tokens are bound to (when `tokens.token_type` is `DPoP`). */
  dpop_key: StoredDPoPKeySchema.optional(),
  /**
   * Every resource scope asked for at this authorization server for `resource` so far (step-ups
   * included; never `offline_access`): the next authorization asks for these too (MCP SEP-2350).
   */
  requested_scope: z.string().optional(),
  updated_at: z.number(),
});
export type StoredCredentials = z.infer<typeof StoredCredentialsSchema>;

/**
 * Where credentials live. Keyed by (server URL, issuer). Implementations:
 * {@link FileTokenStore} (default, on disk, locked across processes) and
 * {@link MemoryTokenStore} (tests, embedding).
 */
export interface TokenStore {
  /** The record for (server, issuer), if any. */
  get(server: string, issuer: string): Promise<StoredCredentials | undefined>;
  /** Every record for `server` (every issuer), most recently updated first. */
  list(server: string): Promise<StoredCredentials[]>;
  /** Writes the record (replacing any for the same key). */
  set(record: StoredCredentials): Promise<void>;
  /** Deletes the record for (server, issuer), or every record for `server` when `issuer` is omitted. */
  delete(server: string, issuer?: string): Promise<void>;
  /**
   * Runs `fn` while holding the lock for `server` (across processes for the
   * file store), so refresh and login happen once even with several bridges.
   */
  withLock<T>(server: string, fn: () => Promise<T>): Promise<T>;
}
