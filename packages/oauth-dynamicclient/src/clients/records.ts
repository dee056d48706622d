import type { ClientMetadata, GrantType } from './metadata.js';

/** How the server knows a client. */
export type ClientKind =
  /** Registered through RFC 7591 or `server.clients.register`. */
  | 'dynamic'
  /** Pre-registered in the server options. */
  | 'static'
  /** Identified by the URL of its Client ID Metadata Document (whoever can publish at that URL). */
  | 'cimd';

/** A client as every endpoint sees it. Holds no plaintext secret. */
export interface Client {
  client_id: string;
  kind: ClientKind;
  metadata: ClientMetadata;
  /** Seconds since the epoch (RFC 7591 `client_id_issued_at`); absent for static and CIMD clients. */
  client_id_issued_at?: number;
  /** SHA-256 (base64url) of the client secret; absent for public clients. */
  secretHash?: string;
  /** Seconds since the epoch when the secret expires; 0 = never (RFC 7591). */
  client_secret_expires_at: number;
  /** First-party static client whose consent is implied (`StaticClientConfig.skipConsent`); never on other kinds. */
  skipConsent?: true;
}

/** True only for a static client configured with `skipConsent` (dynamic and CIMD clients never skip consent). */
export const skipsConsent = (client: Client): boolean =>
  client.kind === 'static' && client.skipConsent === true;

/** A dynamic client as stored. */
export interface StoredClient extends Client {
  kind: 'dynamic';
  /** SHA-256 (base64url) of the current RFC 7592 registration access token. */
  registrationTokenHash: string;
  /** When the record expires unless used (ms since the epoch); absent = never. */
  expiresAt?: number;
  /** When the client was last used at /authorize or /token (ms since the epoch). */
  lastUsedAt?: number;
}

/** The result of registering or updating a client: the only time plaintext credentials exist. */
export interface Registration {
  client: Client;
  /** Plaintext client secret: only for confidential clients, only in this response. */
  clientSecret?: string;
  /** Plaintext RFC 7592 registration access token. */
  registrationAccessToken: string;
}

/** True when the client registered `grant`. */
export const hasGrant = (client: Client, grant: GrantType): boolean =>
  client.metadata.grant_types.includes(grant);

/** True for clients that authenticate with a secret. */
export const isConfidential = (client: Client): boolean =>
  client.metadata.token_endpoint_auth_method !== 'none';
