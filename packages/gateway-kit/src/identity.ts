/** Who is calling: the verified access token's subject and claims. */
export interface Identity {
  /**
   * The user id: immutable and qualified by the identity provider
   * (`local:alice`, `github:583231`, `oidc:<issuer>#<sub>`). Every
   * authorization decision uses this and nothing else.
   */
  sub: string;
  /** Login or display name, when known: for showing only, never for deciding (users can change it). */
  name?: string;
  /** OAuth client that holds the token. */
  clientId?: string;
  /** Granted scopes. */
  scopes: string[];
  /**
   * Groups the identity provider reported at sign-in (`github-org:<id>`,
   * `github-team:<id>`, OIDC `groups` values, local users' `groups`), as
   * carried in the access token: for per-tool policy. Absent when the token has none.
   */
  groups?: string[];
}
