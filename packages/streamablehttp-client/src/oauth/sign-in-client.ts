/**
 * The client a browser sign-in uses, in the order of the MCP authorization
 * spec: a pre-registered client, else a Client ID Metadata Document where the
 * authorization server supports them, else dynamic registration (RFC 7591),
 * reusing a stored registration while it still fits (RFC 7592 read, and an
 * update that widens its scope for a step-up).
 */
import type { Clock } from '../clock.js';
import { ClientError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StoredClient, StoredCredentials } from '../store/types.js';
import type { Discovery } from './discovery.js';
import type { OAuthHttp } from './oauth4.js';
import {
  deleteClientConfiguration,
  readClientConfiguration,
  updateClientConfiguration,
} from './registration-management.js';
import { cimdClientRecord, registerClient, staticClientRecord, supportsCimd } from './registration.js';
import { mergeUpdatedClient, stringField } from './session-helpers.js';
import type { OAuthSessionOptions } from './session-options.js';
import { holdsScopes, unionScopes } from './step-up.js';

/** What {@link SignInClients} needs from the session. */
export interface SignInClientsOptions {
  opts: Pick<OAuthSessionOptions, 'staticClient' | 'clientMetadataUrl' | 'clientName'>;
  http: OAuthHttp;
  clock: Clock;
  log: Logger;
}

/**
 * Picks the client of each sign-in, and keeps a registration made in this
 * process until it is stored with the tokens it got (so a retried sign-in does
 * not register again), or deleted when the sign-in failed.
 */
export class SignInClients {
  /** A registration made (or widened) in this process and not stored yet, and the issuer it is registered at. */
  private pending: { client: StoredClient; issuer: string } | undefined;

  constructor(private readonly o: SignInClientsOptions) {}

  /** The registration made in this process and not stored yet. */
  get pendingClient(): StoredClient | undefined {
    return this.pending?.client;
  }

  /** The authorization server is now `issuer` (SEP-2352): a registration pending at another one is dropped. */
  boundTo(issuer: string): void {
    if (this.pending && this.pending.issuer !== issuer) this.pending = undefined;
  }

  /** The sign-in succeeded and stored its client: nothing is pending any more. */
  signedIn(): void {
    this.pending = undefined;
  }

  private keep(client: StoredClient, issuer: string): StoredClient {
    this.pending = { client, issuer };
    return client;
  }

  /** The client for a sign-in at `d`'s authorization server with `redirectUri`, registering one when needed. */
  async ensure(
    d: Discovery,
    rec: StoredCredentials | undefined,
    redirectUri: string,
    scope: string | undefined,
  ): Promise<StoredClient> {
    const { opts, log } = this.o;
    const as = d.authorizationServer;
    if (opts.staticClient) return staticClientRecord(opts.staticClient, redirectUri, as);
    if (opts.clientMetadataUrl) {
      if (supportsCimd(as)) return cimdClientRecord(opts.clientMetadataUrl, redirectUri);
      log.warn(
        'authorization server does not support Client ID Metadata Documents; using dynamic registration',
        {
          issuer: as.issuer,
        },
      );
    }
    const existing = this.pendingClient ?? rec?.client;
    const secretExpired =
      existing?.client_secret_expires_at !== undefined &&
      existing.client_secret_expires_at !== 0 &&
      existing.client_secret_expires_at * 1000 <= this.o.clock.now();
    if (existing?.source === 'dcr' && existing.redirect_uris.includes(redirectUri) && !secretExpired) {
      const reused = await this.reuse(existing, as.issuer, scope);
      if (reused) return reused;
    }
    // Register for every scope the resource offers, so later step-ups stay within the registration.
    const registrationScope = unionScopes(d.resourceMetadata?.scopes_supported?.join(' '), scope);
    const registered = await registerClient(
      as,
      {
        client_name: opts.clientName ?? 'mcp-streamablehttp-client',
        redirect_uris: [redirectUri],
        // SEP-837: our redirect is always a loopback callback, so this is a native client.
        application_type: 'native',
        ...(registrationScope ? { scope: registrationScope } : {}),
      },
      this.o.http,
      log,
    );
    this.keep(registered, as.issuer);
    log.info('registered client', { client_id: registered.client_id, issuer: as.issuer });
    return registered;
  }

  /**
   * A stored dynamic registration, when the server still has it and it covers
   * `scope` (widened by RFC 7592 when it does not); `undefined` to register anew.
   */
  private async reuse(
    existing: StoredClient,
    issuer: string,
    scope: string | undefined,
  ): Promise<StoredClient | undefined> {
    const { http, log } = this.o;
    const manageable = Boolean(existing.registration_client_uri && existing.registration_access_token);
    let current: Record<string, unknown> | undefined;
    if (manageable) {
      try {
        current = await readClientConfiguration(http.fetch, existing);
      } catch (err) {
        if (!(err instanceof ClientError) || err.kind === 'network') throw err;
        log.info('stored client registration is gone; registering again', {
          client_id: existing.client_id,
        });
        return undefined;
      }
    }
    const registered = typeof current?.scope === 'string' ? current.scope : stringField(existing, 'scope');
    if (registered === undefined || holdsScopes(registered, scope)) return existing;
    if (!manageable) return undefined;
    // Step-up beyond what the client registered for: widen the registration (RFC 7592), else register anew.
    const widened = unionScopes(registered, scope);
    try {
      const updated = await updateClientConfiguration(http.fetch, existing, { scope: widened });
      const client = this.keep(mergeUpdatedClient(existing, updated), issuer);
      log.info('widened the client registration', { client_id: existing.client_id, scope: widened });
      return client;
    } catch (err) {
      if (!(err instanceof ClientError) || err.kind === 'network') throw err;
      log.warn('could not widen the client registration; registering again', { reason: err.message });
      return undefined;
    }
  }

  /**
   * After a failed or denied sign-in, a client registered for it and never
   * stored is deleted at the server (RFC 7592), so failed attempts leave no
   * registrations behind; without a management endpoint it is kept in memory
   * for the next attempt of this process.
   */
  async dropUnused(client: StoredClient, rec: StoredCredentials | undefined): Promise<void> {
    const fresh = client === this.pendingClient && rec?.client?.client_id !== client.client_id;
    if (!fresh || client.source !== 'dcr') return;
    if (!client.registration_client_uri || !client.registration_access_token) return;
    try {
      await deleteClientConfiguration(this.o.http.fetch, client);
      this.pending = undefined;
      this.o.log.info('deleted the client registered for the failed sign-in', {
        client_id: client.client_id,
      });
    } catch (err) {
      this.o.log.warn('could not delete the client registered for the failed sign-in', {
        client_id: client.client_id,
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
