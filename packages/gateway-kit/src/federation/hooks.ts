/**
 * The points where a policy engine plugs into a federated endpoint (issue 20,
 * per-tool policy): one per call, one per tools list. Both are optional; with
 * none, every tool of every member the user may use is listed and callable.
 */
import type { Identity } from '../identity.js';
import type { RpcError } from './member.js';

/** Who asks, through which federated endpoint. */
export interface FederationRequestContext {
  /** The endpoint's issuer-local path, e.g. `/mcp` (its key in `policies.endpoints`). */
  endpoint: string;
  identity: Identity;
}

/** A tool as the endpoint shows it, with its owner. */
export interface FederatedTool {
  /** The name the client sees (prefixed or not). */
  name: string;
  /** The member service serving it. */
  service: string;
  /** The name the member knows it by. */
  original: string;
  /** The tool object as listed (its `name` is the shown one). */
  tool: Record<string, unknown>;
}

/** A `tools/call` about to be routed. */
export interface FederatedCall extends FederationRequestContext {
  service: string;
  /** The member's own tool name. */
  tool: string;
  /** The name the client called. */
  name: string;
  arguments: unknown;
  /**
   * The tool's annotations from the members' lists (remembered for a short
   * while, listed when unknown): for decisions that depend on `readOnlyHint`.
   */
  annotations?: () => Promise<Record<string, unknown> | undefined>;
}

/** Optional hooks of a federated endpoint (see `createGateway`'s `federationHooks`). */
export interface FederationHooks {
  /** Each `tools/call` before it reaches the member: return an error to refuse it (sent as is). */
  admitCall?(call: FederatedCall): RpcError | undefined | Promise<RpcError | undefined>;
  /** Each merged `tools/list` before it is sent: return the tools the caller may see. */
  filterTools?(
    ctx: FederationRequestContext,
    tools: FederatedTool[],
  ): FederatedTool[] | Promise<FederatedTool[]>;
}
