// The one fetch-handler shape of every package (inlined into each at build time). Web-standard only.

/**
 * What a runtime edge knows about a request that the web `Request` cannot carry: the socket's
 * facts. An explicit argument, never a side table keyed by the request.
 */
export interface RequestInfo {
  /** Peer address of the connection (the TCP peer, not a forwarded header). */
  readonly remoteAddress?: string;
  /**
   * Aborted when the client goes away before the response is complete. The node edge creates it
   * on first use (cheap when nobody asks).
   */
  readonly signal?: AbortSignal;
  /**
   * The whole request body when the edge read it before calling the handler (bodies with a small
   * declared `Content-Length`); the `Request` then carries the same bytes.
   */
  readonly body?: Uint8Array;
  /**
   * True when the edge writes lazy responses with a late body (`LateBody` of `lazy-response`)
   * when they settle: a handler may then hand a backend's answer up before it exists.
   */
  readonly lateResponses?: boolean;
}

/** A web handler: `Request` (and the edge's {@link RequestInfo}) in, `Response` out. */
export type FetchHandler = (request: Request, info: RequestInfo) => Response | Promise<Response>;
