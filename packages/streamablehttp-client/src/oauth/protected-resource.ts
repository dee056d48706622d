import { z } from 'zod';
import { DiscoveryError } from '../errors.js';
import { readTextLimited, summarizeBody, type FetchLike } from '../http/fetch.js';
import { protectedResourceMetadataUrls, resourceCovers } from '@mcp-gateway/internal/oauth-metadata-urls';
import { getMetadataDocument } from './metadata-request.js';

export { protectedResourceMetadataUrls, resourceCovers };

/** RFC 9728 protected-resource metadata, as far as a client uses it. */
export const ProtectedResourceMetadataSchema = z.looseObject({
  resource: z.url(),
  authorization_servers: z.array(z.url()).min(1, 'authorization_servers must name at least one issuer'),
  scopes_supported: z.array(z.string()).optional(),
  bearer_methods_supported: z.array(z.string()).optional(),
  resource_name: z.string().optional(),
});

/** Parsed RFC 9728 metadata. */
export type ProtectedResourceMetadata = z.infer<typeof ProtectedResourceMetadataSchema>;

/** Where the metadata was found, and what it says. */
export interface ProtectedResourceDiscovery {
  url: string;
  metadata: ProtectedResourceMetadata;
}

/**
 * Fetches and validates the protected-resource metadata of `serverUrl`
 * (RFC 9728): first the `resource_metadata` URL from the 401 challenge, then
 * the path-aware well-known URL, then the root one. Returns `undefined` when
 * no location has any (a pre-RFC 9728 server); throws {@link DiscoveryError}
 * when a document exists but is malformed or describes another resource.
 */
export async function discoverProtectedResource(
  serverUrl: URL,
  opts: { fetch: FetchLike; challengeUrl?: string; timeoutMs?: number },
): Promise<ProtectedResourceDiscovery | undefined> {
  const candidates = [
    ...(opts.challengeUrl ? [opts.challengeUrl] : []),
    ...protectedResourceMetadataUrls(serverUrl),
  ];
  for (const url of [...new Set(candidates)]) {
    const response = await getMetadataDocument(opts.fetch, url, opts.timeoutMs);
    if (response.status !== 200) {
      await response.body?.cancel();
      continue;
    }
    const text = await readTextLimited(response).catch((err: unknown) => {
      throw new DiscoveryError(
        'invalid_resource_metadata',
        `protected-resource metadata at ${url}: ${String(err)}`,
      );
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DiscoveryError(
        'invalid_resource_metadata',
        `protected-resource metadata at ${url} is not JSON: got ${summarizeBody(response.headers.get('content-type'), text)}`,
      );
    }
    const parsed = ProtectedResourceMetadataSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DiscoveryError(
        'invalid_resource_metadata',
        `protected-resource metadata at ${url} is malformed: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
      );
    }
    if (!resourceCovers(parsed.data.resource, serverUrl)) {
      throw new DiscoveryError(
        'invalid_resource_metadata',
        `protected-resource metadata at ${url} is for resource ${parsed.data.resource}, not ${serverUrl.href}`,
      );
    }
    return { url, metadata: parsed.data };
  }
  return undefined;
}
