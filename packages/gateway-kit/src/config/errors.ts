import type { z } from 'zod';

/** One problem in a config, with the dotted path of the field it concerns. */
export interface ConfigIssue {
  /** Dotted path, e.g. `services.fetch.allowHosts`; `(root)` for the whole document. */
  path: string;
  message: string;
}

/** The configuration could not be read or is invalid. The message names every field at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`invalid config (${source}):\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`);
  }
}

/** Dotted path of a zod issue (`services.fetch.allowHosts`, `webhooks[0].url`). */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

/** Turns zod issues into {@link ConfigIssue}s; unknown keys are named one by one. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: issuePath([...issue.path, key]), message: 'unknown field' });
    } else {
      out.push({ path: issuePath(issue.path), message: issue.message });
    }
  }
  return out;
}
