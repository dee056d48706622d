import type { GatewayConfig, IdpConfig } from './schema.js';

/**
 * User ids in the config. Every authorization decision of the gateway (the
 * `admins` list, each service's `users` list) compares the token's subject,
 * an immutable id qualified by the identity provider, with the list, exactly:
 *
 * - local: `local:<username>` (local user names are fixed ids of the local provider);
 * - GitHub: `github:<numeric id>` (a login can be renamed and then taken by someone else);
 * - OIDC: `oidc:<issuer>#<sub>` (the provider's `sub` is unique only within its issuer);
 *   users of a trusted enterprise IdP (ID-JAGs) the same way, with that IdP's issuer;
 * - machine clients (`client_credentials`): `client:<client_id>`;
 * - workloads (`authorization.workloadIssuers`): `workload:<issuer>#<sub>`.
 *
 * Logins, display names and e-mail addresses never match. A signed-in user
 * sees their id on `/account`.
 */

/** True when `list` names the subject `sub` (exact match; no aliases, no wildcard). */
export function listsSubject(list: readonly string[], sub: string): boolean {
  return list.includes(sub);
}

/** A service's `users` check: without a list every signed-in user may use it. */
export function mayUse(users: readonly string[] | undefined, sub: string | undefined): boolean {
  return users === undefined || (sub !== undefined && listsSubject(users, sub));
}

/** How a user id looks with this identity provider. */
export function exampleSubject(idp: IdpConfig): string {
  return idp.type === 'local'
    ? 'local:<username>'
    : idp.type === 'github'
      ? 'github:<numeric id>'
      : `oidc:${idp.issuer}#<sub>`;
}

const sameIssuer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Who else than the IdP's users can hold tokens: machine clients and trusted IdPs' users. */
export interface OtherSubjects {
  /** `client_credentials` is on: `client:<id>` entries can match. */
  machineClients?: boolean;
  /** Issuers of `authorization.trustedIdps`: `oidc:<issuer>#<sub>` entries of these can match. */
  trustedIssuers?: readonly string[];
  /** Issuers of `authorization.workloadIssuers`: `workload:<issuer>#<sub>` entries of these can match. */
  workloadIssuers?: readonly string[];
}

/** What {@link subjectProblem} accepts besides the IdP's users, for a config. */
export const otherSubjects = (config: GatewayConfig): OtherSubjects => ({
  machineClients: config.authorization.grants.clientCredentials,
  trustedIssuers: config.authorization.grants.jwtBearer
    ? config.authorization.trustedIdps.map((i) => i.issuer)
    : [],
  workloadIssuers: config.authorization.workloadIssuers.map((w) => w.issuer),
});

/**
 * Why `entry` of an `admins` or `users` list can never match anyone signed in
 * through `idp` (or, with `others`, a machine client or a trusted IdP's user),
 * or `undefined` when it can.
 */
export function subjectProblem(
  entry: string,
  idp: IdpConfig,
  others: OtherSubjects = {},
): string | undefined {
  if (entry === '*') return '"*" is not a wildcard here; leave the list out to allow every signed-in user';
  if (entry.startsWith('client:')) {
    return others.machineClients
      ? entry.length > 'client:'.length
        ? undefined
        : `"${entry}" names no client; write client:<client_id>`
      : `"${entry}" names a machine client, but authorization.grants.clientCredentials is off`;
  }
  if (entry.startsWith('workload:')) {
    const hash = entry.lastIndexOf('#');
    return hash > 0 && others.workloadIssuers?.includes(entry.slice('workload:'.length, hash))
      ? undefined
      : `"${entry}" names no issuer of authorization.workloadIssuers; write workload:<issuer>#<sub>`;
  }
  if (entry.startsWith('oidc:')) {
    const hash = entry.lastIndexOf('#');
    if (hash > 0 && others.trustedIssuers?.some((i) => sameIssuer(entry.slice(5, hash), i))) return undefined;
  }
  const example = exampleSubject(idp);
  const colon = entry.indexOf(':');
  if (colon < 0) {
    return `"${entry}" is not a user id: logins never match; write ${example} (a signed-in user finds theirs on /account)`;
  }
  const provider = entry.slice(0, colon);
  const rest = entry.slice(colon + 1);
  if (provider !== idp.type) {
    return `"${entry}" names a ${provider} user, but the identity provider is ${idp.type}; write ${example}`;
  }
  if (idp.type === 'github' && !/^\d+$/.test(rest)) {
    return `"${entry}": GitHub users are matched by numeric id, not login; write ${example} (see /account, or https://api.github.com/users/<login>)`;
  }
  if (idp.type === 'oidc') {
    const hash = rest.lastIndexOf('#');
    if (hash < 0) return `"${entry}": OIDC ids carry the issuer; write ${example}`;
    if (!sameIssuer(rest.slice(0, hash), idp.issuer)) {
      return `"${entry}" names a user of another issuer than ${idp.issuer}; write ${example}`;
    }
  }
  return undefined;
}

/** The problems of every entry in a list, as `path: problem` lines. */
export function listProblems(
  path: string,
  list: readonly string[],
  idp: IdpConfig,
  others: OtherSubjects = {},
): string[] {
  return list.flatMap((entry) => {
    const problem = subjectProblem(entry, idp, others);
    return problem ? [`${path}: ${problem}`] : [];
  });
}

/**
 * Warnings for `mcp-gateway config check` and start-up: list entries that can
 * never match (`admins`, every service's `users`, GitHub `allowedUsers`).
 */
export function subjectWarnings(config: GatewayConfig): string[] {
  const others = otherSubjects(config);
  const out = listProblems('admins', config.admins, config.idp, others);
  for (const [name, service] of Object.entries(config.services)) {
    if (service.users) out.push(...listProblems(`services.${name}.users`, service.users, config.idp, others));
  }
  out.push(...policyWarnings(config, others));
  if (config.idp.type === 'github') {
    for (const entry of config.idp.allowedUsers) {
      if (entry !== '*' && !/^(github:)?\d+$/.test(entry)) {
        out.push(
          `idp.allowedUsers: "${entry}": GitHub users are admitted by numeric id (github:<id>), not login; this entry admits nobody`,
        );
      }
    }
  }
  return out;
}

/**
 * Policy rules whose `users` can never match, and `groups` a GitHub sign-in without `idp.groups`
 * never carries: of the config's `policies`, or of `policies` given (a document the admin API
 * received), each as `policies.<path>: <problem>`.
 */
export function policyWarnings(
  config: GatewayConfig,
  others: OtherSubjects = otherSubjects(config),
  policies: GatewayConfig['policies'] = config.policies,
): string[] {
  const out: string[] = [];
  const targets = [
    ...Object.entries(policies.services).map(([n, p]) => [`policies.services.${n}`, p] as const),
    ...Object.entries(policies.endpoints).map(([n, p]) => [`policies.endpoints.${n}`, p] as const),
  ];
  for (const [path, policy] of targets) {
    policy.rules.forEach((rule, i) => {
      if (rule.users) out.push(...listProblems(`${path}.rules[${i}].users`, rule.users, config.idp, others));
      if (rule.groups && config.idp.type === 'github' && !config.idp.groups)
        out.push(`${path}.rules[${i}].groups: GitHub sign-ins carry no groups unless idp.groups is true`);
    });
  }
  return out;
}
