import { randomUUID } from 'node:crypto';
import { childLogger, logEnabled } from '@mcp-gateway/internal/log';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { PublicRequest } from '../http/public-url.js';

/** A client-given request id is kept when it looks like one. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Per-request state: start time, request id (the client's when well-formed),
 * and a logger bound to the id, made on first use (most requests log nothing
 * below the access line). A class, not an object literal with a getter: a
 * per-request getter closure keeps the request's objects alive through
 * young-generation GCs.
 */
export class RequestContext {
  readonly started = performance.now();
  readonly reqId: string;
  private child: Logger | undefined;
  constructor(
    given: string | null | undefined,
    private readonly logger: Logger,
  ) {
    this.reqId = given && REQUEST_ID.test(given) ? given : randomUUID();
  }
  get log(): Logger {
    return (this.child ??= childLogger(this.logger, { reqId: this.reqId }));
  }
}

/** Metrics and the one access-log line of each finished request. */
export class AccessLog {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly level: 'info' | 'debug',
  ) {}

  /** Records a finished request: `kind` is the route (`service:<name>` for services). */
  finish(t: RequestContext, kind: string, status: number, method: string, pub: PublicRequest): void {
    const seconds = (performance.now() - t.started) / 1000;
    const routeLabel = kind.startsWith('service:') ? 'service' : kind;
    this.metrics.countRequest(routeLabel, status);
    this.metrics.observeDuration(routeLabel, seconds);
    if (!logEnabled(this.logger, this.level)) return;
    this.logger[this.level]('request', {
      reqId: t.reqId,
      method,
      path: pub.pathname,
      status,
      ms: Math.round(seconds * 1000),
      route: kind,
      ip: pub.clientIp,
    });
  }
}
