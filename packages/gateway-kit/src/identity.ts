/** Who is calling: the verified access token's subject and claims. */
export interface Identity {
  /** Stable user id (`sub`). */
  sub: string;
  /** Display name or login, when known. */
  name?: string;
  /** OAuth client that holds the token. */
  clientId?: string;
  /** Granted scopes. */
  scopes: string[];
}
