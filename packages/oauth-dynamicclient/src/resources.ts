import { z } from 'zod';

/**
 * The protected resources (RFC 8707 audiences, RFC 9728 documents) an
 * authorization server issues tokens for: validated at the edge
 * ({@link resourceListSchema}), held live in a {@link ResourceSet} that
 * metadata, `/authorize`, the grants, consent and `/verify` read on every
 * request, so resources can change while the server runs.
 */

const absoluteUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.hash && !v.includes('#');
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL without a fragment');

/** A scope token (RFC 6749 §3.3). */
export const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a valid scope token (RFC 6749 §3.3)');

/** One protected resource as given in options or to `server.resources.set`. */
export const resourceSchema = z
  .object({
    /** The resource identifier, e.g. `https://host/mcp`. */
    resource: absoluteUrl,
    /** Scopes this resource understands. */
    scopes: z.array(scopeToken).optional(),
    /** Human-readable name (RFC 9728 `resource_name`). */
    name: z.string().max(200).optional(),
    /** Use this resource when a request names none. */
    default: z.boolean().optional(),
    /**
     * List this resource's scopes in the metadata's `scopes_supported`
     * (default true). Set false for a resource only some users may use;
     * its own RFC 9728 document stays public.
     */
    advertise: z.boolean().optional(),
  })
  .strict();

/** The resource list of the options (default: none). */
export const resourceListSchema = z.array(resourceSchema).default([]);

/** A protected resource as given (before its URL is canonicalised). */
export type ResourceInput = z.input<typeof resourceSchema>;

/** Lower-cases scheme and host and drops the fragment (WHATWG URL serialisation). */
function canonicalUrl(value: string): string {
  const u = new URL(value);
  u.hash = '';
  // `https://host` stays without the slash URL serialisation would add.
  return u.pathname === '/' && !/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/$/i.test(value.split(/[?#]/)[0]!)
    ? u.href.replace(/\/(\?|$)/, '$1')
    : u.href;
}

/** A resource entry as the server holds it (identifier canonicalised). */
export interface ResourceConfig {
  resource: string;
  scopes?: string[];
  name?: string;
  default?: boolean;
  /** `false`: its scopes stay out of the server metadata's `scopes_supported`. */
  advertise?: boolean;
}

/** What the server derives from its resources. */
export interface ResourceState {
  /** The resources, identifiers canonicalised. */
  resources: ResourceConfig[];
  /** Scopes the server supports: the `scopes` option, else every resource's scopes. */
  scopes: string[];
  /** `scopes` less those only resources with `advertise: false` use: what the metadata lists. */
  advertisedScopes: string[];
}

/** The {@link ResourceState} of validated resources; `explicitScopes` is the `scopes` option. */
export function resourceState(
  parsed: readonly z.output<typeof resourceSchema>[],
  explicitScopes: readonly string[] | undefined,
): ResourceState {
  const resources = parsed.map((r) => ({ ...r, resource: canonicalUrl(r.resource) }));
  const scopes = explicitScopes
    ? [...explicitScopes]
    : [...new Set(resources.flatMap((r) => r.scopes ?? []))];
  const listed = new Set(resources.filter((r) => r.advertise !== false).flatMap((r) => r.scopes ?? []));
  const unlisted = new Set(resources.filter((r) => r.advertise === false).flatMap((r) => r.scopes ?? []));
  return {
    resources,
    scopes,
    advertisedScopes: scopes.filter((s) => listed.has(s) || !unlisted.has(s)),
  };
}

/**
 * The live resource list of a server. Readers take `list` (and the derived
 * scopes) per request; {@link ResourceSet.replace} swaps all of them at once,
 * so a reader never sees a half-updated set, and `list` is a new array after
 * each change (a cache may compare it by identity).
 */
export class ResourceSet {
  private readonly listeners: Array<() => void> = [];

  constructor(
    private state: ResourceState,
    private readonly explicitScopes: readonly string[] | undefined,
  ) {}

  /** The resources now, identifiers canonicalised. */
  get list(): readonly ResourceConfig[] {
    return this.state.resources;
  }

  /** Scopes the server supports now (the `scopes` option, else every resource's scopes). */
  get scopes(): readonly string[] {
    return this.state.scopes;
  }

  /** The scopes the metadata lists (see {@link ResourceState.advertisedScopes}). */
  get advertisedScopes(): readonly string[] {
    return this.state.advertisedScopes;
  }

  /** The resource with this exact (canonical) identifier. */
  find(resource: string): ResourceConfig | undefined {
    return this.state.resources.find((r) => r.resource === resource);
  }

  /** Replaces every resource by validated ones and tells the listeners. */
  replace(parsed: readonly z.output<typeof resourceSchema>[]): void {
    this.state = resourceState(parsed, this.explicitScopes);
    for (const l of this.listeners) l();
  }

  /** Calls `listener` after each {@link replace}. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}

/** The protected resources of a running server (`AuthorizationServer.resources`). */
export interface ResourcesApi {
  /** The resources now, identifiers canonicalised. */
  list(): ResourceConfig[];
  /**
   * Replaces every resource (same rules as the `resources` option). Without
   * the `scopes` option, the scopes supported follow the new resources.
   * Tokens already issued for a removed resource stay valid until they
   * expire; no new ones are issued or refreshed for it.
   *
   * @throws OptionsError naming each bad field; the resources stay as they were.
   */
  set(resources: ResourceInput[]): void;
}
