import { createHash, randomBytes } from 'node:crypto';
import { AuthorizationResponseError, ResponseBodyError } from 'oauth4webapi';
import { z } from 'zod';
import type { BearerChallenge } from '@mcp-gateway/internal/bearer-challenge';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import type { AddressRule, Resolver } from '../http/address-guard.js';
import type { Logger } from '../ops/logger.js';
import type { HopTracer } from '../telemetry/mcp-trace.js';
import { requestStateKeyFor } from '../services/request-state-key.js';
import { ChallengedScopes } from './challenged-scopes.js';
import { SignInElicitation } from './elicitation.js';
import { UpstreamIssuerMismatch, UpstreamOAuthClient, UpstreamOAuthError } from './oauth-client.js';
import { grantedScopeTokens, scopeTokens, unionScopes } from './scopes.js';
import type { SecretBox } from './secret-box.js';
import { UpstreamTokenVault, type UpstreamTokens } from './token-vault.js';

/** The user has not connected their account at the upstream yet (or it was revoked): they must sign in there. */
export class UpstreamSignInRequired extends Error {
  override readonly name: string = 'UpstreamSignInRequired';
  constructor(
    readonly service: string,
    /** The gateway page where the user connects the upstream. */
    readonly connectUrl: string,
    message = `service "${service}" needs you to connect your account there first: open ${connectUrl}`,
  ) {
    super(message);
  }
}

/**
 * The upstream refused the user's token for want of scopes it named (403 `insufficient_scope`)
 * that no sign-in of theirs asked for yet: they connect again, and that sign-in asks for what they
 * were granted plus `scope` (MCP authorization, "Step-Up Authorization Flow", SEP-2350). Answered
 * as {@link UpstreamSignInRequired} is (same page); the message does not name the scopes (the
 * upstream's text, not the gateway's to show users).
 */
export class UpstreamStepUpRequired extends UpstreamSignInRequired {
  override readonly name = 'UpstreamStepUpRequired';
  /** Marks the answer as a step-up ("more access"), not a first sign-in. */
  readonly stepUp = true;
  constructor(
    service: string,
    connectUrl: string,
    /** The scopes the upstream's challenge named (for logs; never put in a message to users). */
    readonly scope: string,
  ) {
    super(
      service,
      connectUrl,
      `service "${service}" needs more access at its upstream than you allowed when you connected: connect your account there again at ${connectUrl}`,
    );
  }
}

/** What the reverse proxy asks for on each gateway→upstream request of a user. */
export interface UpstreamCredentialSource {
  /** What a user who must connect first is answered, and how the retry of a 2026 client is read. */
  readonly elicitation: SignInElicitation;
  /**
   * The `Authorization` value for the user's request; throws {@link UpstreamSignInRequired}.
   * `trace` (telemetry on): a refresh on the way is a child span of the request.
   */
  authorization(sub: string, trace?: HopTracer): Promise<string>;
  /**
   * The upstream refused `sent` (401): refresh the user's tokens once. True
   * when fresh tokens are there to retry with; false when the user must
   * connect again (the tokens are forgotten). `challenge` is the upstream's:
   * a `resource_metadata` at another location than the one discovered makes
   * the refresh discover the upstream again first; its `scope` is kept for
   * the user's next sign-in.
   */
  refused(
    sub: string,
    sent: string,
    challenge: BearerChallenge | undefined,
    trace?: HopTracer,
  ): Promise<boolean>;
  /**
   * The upstream refused the user's token with 403 `insufficient_scope` naming `scope`. Throws
   * {@link UpstreamStepUpRequired} (the scopes kept for the next sign-in) when the sign-in that got
   * the user's tokens did not ask for all of them yet and the next one will; resolves otherwise
   * (it asked for them, the authorization server refused them, they are beyond the configured
   * `scope` or the bounds, or the challenge names none: no sign-in would help, and the caller
   * answers as for any refusal).
   */
  insufficientScope(sub: string, scope: string | undefined): Promise<void>;
}

/** An `oauth` service's settings (the `credentials` of an `http` service). */
export interface UpstreamServiceSettings {
  url: string;
  scope?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** The authorization server `clientId` belongs to (its exact `issuer`). */
  issuer?: string | undefined;
  /** The address rule of a service added through the admin API, kept by its sign-in too. */
  addressRule?: AddressRule | undefined;
}

/** Where upstreams send the browser back, below the issuer: `<this>/<service>`. */
export const UPSTREAM_CALLBACK_PATH = '/account/upstream/callback';

/**
 * One sign-in in progress, as the browser carries it (sealed, in an HttpOnly cookie) from the
 * connect step to the callback: what the callback checks before it redeems anything.
 */
export type ConnectRecord = z.infer<typeof connectRecordSchema>;

const connectRecordSchema = z.object({
  state: z.string().min(1),
  /** The PKCE code verifier. */
  verifier: z.string().min(1),
  /** The service being connected. */
  service: z.string(),
  /** A hash of the id of the user who started it. */
  user: z.string(),
  /** The authorization server the browser was sent to: the only one the code is redeemed at. */
  issuer: z.string(),
});

/** The sign-in a user started last at a service, kept in the store until its callback. */
const pendingConnectSchema = z.object({
  /** SHA-256 of its `state`. */
  state: z.string(),
  /** The scope it asks for. */
  scope: z.string().optional(),
});
type PendingConnect = z.infer<typeof pendingConnectSchema>;

/** What a sealed {@link ConnectRecord} is bound to. */
const CONNECT_RECORD = 'upstream-connect';

/** How long a sign-in in progress may take (the connect cookie's lifetime). */
export const CONNECT_TTL_S = 600;

/** Refresh this long before the access token's stated expiry. */
const EXPIRY_MARGIN_MS = 30_000;

/**
 * Upstream sign-in on the user's behalf: for each `http` service whose
 * upstream is itself protected by OAuth, the gateway is an OAuth client of
 * the upstream's authorization server ({@link UpstreamOAuthClient}), keeps
 * each user's tokens sealed in the store ({@link UpstreamTokenVault}),
 * refreshes them (one refresh per user and service at a time) and hands the
 * access token to the reverse proxy. The client's own gateway token never
 * goes upstream.
 */
export class UpstreamSignIn {
  readonly vault: UpstreamTokenVault;
  /** The scopes the upstreams' challenges named, per user (asked for at their next sign-in). */
  readonly challenged: ChallengedScopes;
  private readonly clients = new Map<
    string,
    { settings: UpstreamServiceSettings; client: UpstreamOAuthClient }
  >();
  private readonly refreshing = new Map<string, Promise<UpstreamTokens | undefined>>();
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      store: Store;
      box: SecretBox;
      issuer: string;
      log: Logger;
      now?: () => number;
      /** Resolves the hosts an upstream's OAuth metadata names before they are checked (default: the system's). */
      resolver?: Resolver;
      /**
       * The secret the `requestState` keys of the sign-in step derive from, shared by the
       * instances on one store ({@link sharedRequestStateSecret}); default: random per process.
       */
      requestStateSecret?: Uint8Array;
    },
  ) {
    this.vault = new UpstreamTokenVault(deps.store, deps.box);
    this.challenged = new ChallengedScopes(deps.store, deps.now);
    this.now = deps.now ?? Date.now;
    this.stateSecret = deps.requestStateSecret ?? randomBytes(32);
  }

  private readonly stateSecret: Uint8Array;

  private get issuer(): string {
    return this.deps.issuer.replace(/\/+$/, '');
  }

  /**
   * The redirect URI the upstream of `service` sends the browser back to: one per service, so an
   * answer that comes back for another service than the one being connected is told apart
   * (authorization server mix-up, RFC 9700 §4.4) even when its server sends no `iss`.
   */
  redirectUri(service: string): string {
    return `${this.issuer}${UPSTREAM_CALLBACK_PATH}/${encodeURIComponent(service)}`;
  }

  /** Where a user connects `service`. */
  connectUrl(service: string): string {
    return `${this.issuer}/account/upstream/connect?service=${encodeURIComponent(service)}`;
  }

  /** The OAuth client of `service` (made on first use, made again when its settings change). */
  clientFor(service: string, settings: UpstreamServiceSettings): UpstreamOAuthClient {
    const known = this.clients.get(service);
    if (known && sameSettings(known.settings, settings)) return known.client;
    const client = new UpstreamOAuthClient({
      service,
      resource: settings.url,
      redirectUri: this.redirectUri(service),
      scope: settings.scope,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      issuer: settings.issuer,
      clientName: `mcp-gateway at ${new URL(this.issuer).host}`,
      store: this.deps.store,
      box: this.deps.box,
      now: this.now,
      resolver: this.deps.resolver,
      addressRule: settings.addressRule,
    });
    this.clients.set(service, { settings, client });
    return client;
  }

  /** What the reverse proxy of `service` uses. */
  source(service: string, settings: UpstreamServiceSettings): UpstreamCredentialSource {
    return {
      elicitation: new SignInElicitation(
        requestStateKeyFor(this.stateSecret, service, 'upstream-sign-in'),
        this.now,
      ),
      authorization: (sub, trace) =>
        this.authorization(service, this.clientFor(service, settings), sub, trace),
      refused: async (sub, sent, challenge, trace) => {
        const client = this.clientFor(service, settings);
        client.challenged(challenge?.resource_metadata);
        // A configured scope is all a sign-in asks for: the challenge's adds nothing.
        if (challenge?.scope && settings.scope === undefined)
          await this.challenged.add(service, sub, challenge.scope);
        return this.refused(service, client, sub, sent, trace);
      },
      insufficientScope: (sub, scope) => this.insufficientScope(service, settings, sub, scope),
    };
  }

  /**
   * What `sub`'s next sign-in at `service` asks for besides the service's scopes (without a
   * configured `scope`; {@link UpstreamOAuthClient.scopeFor} bounds it): what their tokens were
   * granted, and what the upstream challenged them for since (MCP authorization, "Scope Selection
   * Strategy": re-authorizing keeps what was granted; step-up), not what it refused.
   */
  async scopesFor(service: string, sub: string): Promise<string | undefined> {
    const tokens = await this.vault.get(service, sub);
    const record = await this.challenged.get(service, sub);
    // A token response without `scope` granted what was asked (RFC 6749 §5.1).
    return unionScopes(heldScopes(tokens).join(' '), ...(record?.challenged ?? []));
  }

  /**
   * A 403 `insufficient_scope` for `sub` naming `scope`: one step-up per set of scopes. The user is
   * asked to connect again ({@link UpstreamStepUpRequired}) only when the sign-in that got their
   * tokens did not ask for (nor was granted) all of them, none was refused before, and the next
   * sign-in will ask for every one (each a well-formed scope within the bounds and, when the
   * service configures `scope`, within it). Otherwise another sign-in would not help, and the
   * caller answers 502 as before.
   */
  private async insufficientScope(
    service: string,
    settings: UpstreamServiceSettings,
    sub: string,
    scope: string | undefined,
  ): Promise<void> {
    const named = (scope ?? '').split(/\s+/).filter(Boolean);
    if (named.length === 0) return;
    const tokens = await this.vault.get(service, sub);
    const record = await this.challenged.get(service, sub);
    const holding = heldScopes(tokens);
    const held = new Set([...scopeTokens(tokens?.requested, ...(record?.refused ?? [])), ...holding]);
    if (named.every((s) => held.has(s))) return;
    if (settings.scope === undefined) await this.challenged.add(service, sub, named.join(' '));
    const next = await this.clientFor(service, settings)
      .scopeFor(await this.scopesFor(service, sub))
      .catch(() => undefined);
    const asked = new Set(scopeTokens(next));
    // The upstream's text, bounded in the log line.
    const log = { service, user: sub, scope: named.join(' ').slice(0, MAX_LOGGED_SCOPE) };
    if (!named.every((s) => asked.has(s))) {
      this.deps.log.info('upstream asks for scope the gateway does not ask for; answered as a refusal', log);
      return;
    }
    // Beyond the bounds a sign-in would leave out a scope the user asked for and holds now: they
    // would be asked again for that one next (a reconnect loop), so no sign-in is asked for. Scopes
    // the server granted unasked (its defaults, e.g. `profile`) are not needed again.
    const askedBefore = new Set(scopeTokens(tokens?.requested));
    if (!holding.every((s) => !askedBefore.has(s) || asked.has(s))) {
      this.deps.log.info('a step-up would drop a scope the user holds; answered as a refusal', log);
      return;
    }
    this.deps.log.info('upstream asks for more scope; the user is asked to connect again', log);
    throw new UpstreamStepUpRequired(service, this.connectUrl(service), named.join(' '));
  }

  private static connectKey(service: string, sub: string): string {
    return `gateway:upstream-connect-scope:${service} ${sub}`;
  }

  private static stateHash(state: string): string {
    return createHash('sha256').update(state).digest('base64url');
  }

  /**
   * Keeps the sign-in of `state` that `sub` started at `service` until its callback, with the scope
   * it asks for (in the store, for {@link CONNECT_TTL_S}: the connect cookie stays small whatever
   * the scope). One per user and service: a newer Connect replaces it (its callback alone passes).
   */
  async rememberAsked(service: string, sub: string, state: string, scope: string | undefined): Promise<void> {
    const record: PendingConnect = { state: UpstreamSignIn.stateHash(state), ...(scope ? { scope } : {}) };
    await this.deps.store.set(UpstreamSignIn.connectKey(service, sub), record, CONNECT_TTL_S * 1000);
  }

  /**
   * The sign-in of `state` by `sub` at `service`, once: the scope it asked for (`scope` absent:
   * none); `undefined` when it is not the user's latest Connect there, or expired.
   */
  async takeAsked(service: string, sub: string, state: string): Promise<{ scope?: string } | undefined> {
    const key = UpstreamSignIn.connectKey(service, sub);
    const parsed = pendingConnectSchema.safeParse(await this.deps.store.get<unknown>(key));
    if (!parsed.success || parsed.data.state !== UpstreamSignIn.stateHash(state)) return undefined;
    // The upstream redeems a code once: a second callback of the same sign-in gets nowhere anyway.
    await this.deps.store.delete(key);
    return parsed.data.scope === undefined ? {} : { scope: parsed.data.scope };
  }

  /**
   * A sign-in of `sub` that asked for `asked` ended: `granted` is what the token response granted
   * (`undefined`: all that was asked, RFC 6749 §5.1), or `refusal` the error that ended it. The
   * challenged scopes it asked for and did not get are no longer asked for, and no step-up is
   * asked for them again for a while ({@link REFUSED_TTL_MS}, or until the user disconnects): the
   * next Connect works with the rest. Only `invalid_scope` (from its authorization or token
   * endpoint) and a grant of fewer scopes count; a Cancel (`access_denied`) refuses nothing.
   */
  async signInEnded(
    service: string,
    sub: string,
    asked: string | undefined,
    outcome: { granted: string | undefined } | { refusal: unknown },
  ): Promise<void> {
    let missing: string[];
    if ('granted' in outcome) {
      if (outcome.granted === undefined) return;
      const granted = new Set(grantedScopeTokens(outcome.granted));
      missing = scopeTokens(asked).filter((s) => !granted.has(s));
    } else {
      if (!refusesScope(outcome.refusal)) return;
      missing = scopeTokens(asked);
    }
    if (missing.length === 0) return;
    await this.challenged.refuse(service, sub, missing);
  }

  /** One connect step, sealed for its cookie ({@link ConnectRecord}). */
  sealConnect(record: ConnectRecord): Promise<string> {
    return this.deps.box.seal(record, CONNECT_RECORD);
  }

  /** The connect step of a cookie, or `undefined` (absent, altered, or sealed by another gateway). */
  async openConnect(sealed: string | undefined): Promise<ConnectRecord | undefined> {
    const parsed = connectRecordSchema.safeParse(await this.deps.box.open(sealed, CONNECT_RECORD));
    return parsed.success ? parsed.data : undefined;
  }

  /** Forgets the client of `service` (removed at runtime); stored tokens stay until they expire or the user disconnects. */
  remove(service: string): void {
    this.clients.delete(service);
  }

  private async authorization(
    service: string,
    client: UpstreamOAuthClient,
    sub: string,
    trace?: HopTracer,
  ): Promise<string> {
    let tokens = await this.vault.get(service, sub);
    if (tokens?.expiresAt !== undefined && tokens.expiresAt - EXPIRY_MARGIN_MS <= this.now())
      tokens = await this.refresh(service, client, sub, tokens, trace);
    if (!tokens) throw new UpstreamSignInRequired(service, this.connectUrl(service));
    return `Bearer ${tokens.accessToken}`;
  }

  private async refused(
    service: string,
    client: UpstreamOAuthClient,
    sub: string,
    sent: string,
    trace?: HopTracer,
  ): Promise<boolean> {
    const tokens = await this.vault.get(service, sub);
    if (!tokens) return false;
    // Another request refreshed meanwhile: retry with what is stored now.
    if (`Bearer ${tokens.accessToken}` !== sent) return true;
    return (await this.refresh(service, client, sub, tokens, trace)) !== undefined;
  }

  /**
   * One refresh per (service, user) at a time; `undefined` (tokens forgotten) when the upstream
   * refuses it. The request that starts it gets the `upstream.token_refresh` span.
   */
  private refresh(
    service: string,
    client: UpstreamOAuthClient,
    sub: string,
    tokens: UpstreamTokens,
    trace?: HopTracer,
  ): Promise<UpstreamTokens | undefined> {
    const key = `${service} ${sub}`;
    let p = this.refreshing.get(key);
    if (!p) {
      const hop = trace?.hop('upstream.token_refresh', { 'mcp.gateway.service': service });
      p = this.refreshOnce(service, client, sub, tokens).then(
        (fresh) => {
          hop?.end(fresh ? {} : { error: 'refresh_refused' });
          return fresh;
        },
        (err: unknown) => {
          hop?.end({ error: 'refresh_failed' });
          throw err;
        },
      );
      p = p.finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, p);
    }
    return p;
  }

  private async refreshOnce(
    service: string,
    client: UpstreamOAuthClient,
    sub: string,
    tokens: UpstreamTokens,
  ): Promise<UpstreamTokens | undefined> {
    if (!tokens.refreshToken) {
      await this.vault.delete(service, sub);
      return undefined;
    }
    try {
      const fresh = await client.refresh(tokens);
      await this.vault.put(service, sub, fresh);
      return fresh;
    } catch (err) {
      // A refusal (invalid_grant: revoked, expired) ends the connection; anything else is the upstream's outage.
      if (!isRefusal(err)) throw err;
      if (err instanceof UpstreamIssuerMismatch)
        this.deps.log.warn('upstream authorization server changed; the user must connect again', {
          service,
          user: sub,
          err: err.message,
        });
      else
        this.deps.log.info('upstream refused the refresh; the user must connect again', {
          service,
          user: sub,
        });
      await this.vault.delete(service, sub);
      // What the old authorization server was challenged for, or refused, means nothing at the new one.
      if (err instanceof UpstreamIssuerMismatch) await this.challenged.forget(service, sub);
      return undefined;
    }
  }
}

/** Longest part of the upstream's scope text a log line carries. */
const MAX_LOGGED_SCOPE = 200;

/**
 * The scopes `tokens` hold: what their token response granted (`scope`, space- or
 * comma-separated), else what their sign-in asked for (RFC 6749 §5.1).
 */
const heldScopes = (tokens: UpstreamTokens | undefined): string[] =>
  tokens?.scope !== undefined ? grantedScopeTokens(tokens.scope) : scopeTokens(tokens?.requested);

const sameSettings = (a: UpstreamServiceSettings, b: UpstreamServiceSettings) =>
  a.url === b.url &&
  a.scope === b.scope &&
  a.clientId === b.clientId &&
  a.clientSecret === b.clientSecret &&
  a.issuer === b.issuer &&
  a.addressRule === b.addressRule;

/**
 * The authorization server refused the scope a sign-in asked for: `invalid_scope` in its
 * authorization response or from its token endpoint. Any other error (`access_denied`: the user
 * pressed Cancel; `unauthorized_client`, `invalid_request`: the operator's setup) refuses no scope.
 */
function refusesScope(err: unknown): boolean {
  return (
    (err instanceof AuthorizationResponseError || err instanceof ResponseBodyError) &&
    err.error === 'invalid_scope'
  );
}

/**
 * An OAuth error response from the upstream's token endpoint, or its refusal of the sign-in (not a
 * network failure, nor an endpoint the address rules refuse: `UpstreamEndpointRefused` keeps the tokens).
 */
function isRefusal(err: unknown): boolean {
  return err instanceof UpstreamOAuthError || err instanceof ResponseBodyError;
}
