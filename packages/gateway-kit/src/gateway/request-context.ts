import { randomUUID } from 'node:crypto';
import { childLogger, logEnabled, type LineLevel, type LogFields } from '@mcp-gateway/internal/log';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { PublicRequest } from '../http/public-url.js';

/** A client-given request id is kept when it looks like one. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Per-request state: start time, request id (the client's when well-formed),
 * and itself the request's logger: lines carry the id, and the bound child
 * logger is made on the first line (most requests log nothing below the
 * access line, so most never make one). A class, not an object literal with
 * closures: per-request closures keep the request's objects alive through
 * young-generation GCs.
 */
export class RequestContext implements Logger {
  readonly started = performance.now();
  readonly reqId: string;
  private bound: Logger | undefined;
  constructor(
    given: string | null | undefined,
    private readonly logger: Logger,
  ) {
    this.reqId = given && REQUEST_ID.test(given) ? given : randomUUID();
  }
  /** The logger bound to the request id, made now if it was not yet. */
  private get log(): Logger {
    return (this.bound ??= childLogger(this.logger, { reqId: this.reqId }));
  }
  debug(msg: string, fields?: LogFields): void {
    if (logEnabled(this.logger, 'debug')) this.log.debug(msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    if (logEnabled(this.logger, 'info')) this.log.info(msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    if (logEnabled(this.logger, 'warn')) this.log.warn(msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    if (logEnabled(this.logger, 'error')) this.log.error(msg, fields);
  }
  enabled(level: LineLevel): boolean {
    return logEnabled(this.logger, level);
  }
  child(fields: LogFields): Logger {
    return childLogger(this.log, fields);
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
