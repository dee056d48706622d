/** What the CLI prints for people: tool results, the doctor's checklist, the sign-in status. */
import type { DoctorReport } from '../doctor.js';
import type { AuthStatus } from '../oauth/session.js';
import type { Context } from './context.js';

/** A tool result as text: its text parts, placeholders for the rest, else its structured content. */
export function contentText(result: { content?: unknown; structuredContent?: unknown }): string {
  const parts: string[] = [];
  for (const c of (Array.isArray(result.content) ? result.content : []) as Array<Record<string, unknown>>) {
    if (c.type === 'text' && typeof c.text === 'string') parts.push(c.text);
    else if (
      c.type === 'resource' &&
      c.resource &&
      typeof (c.resource as { text?: unknown }).text === 'string'
    ) {
      parts.push((c.resource as { text: string }).text);
    } else parts.push(`[${String(c.type)}${typeof c.mimeType === 'string' ? ` ${c.mimeType}` : ''}]`);
  }
  if (!parts.length && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  return parts.join('\n');
}

/** The doctor checklist, one line a check. */
export function printDoctor(ctx: Context, report: DoctorReport): void {
  const mark = { pass: '✔', warn: '!', fail: '✘', skip: '-' } as const;
  const lines = [`doctor ${report.url}`];
  for (const c of report.checks) lines.push(`  ${mark[c.status]} ${c.title}: ${c.detail}`);
  lines.push(
    report.ok
      ? 'OK: a client has what it needs.'
      : 'FAIL: something a client needs is missing (see ✘ above).',
  );
  ctx.out(lines.join('\n'), report);
}

/** `status` for people. */
export function statusText(s: AuthStatus): string {
  if (!s.loggedIn)
    return `not logged in to ${s.server}${s.clientId ? ` (client ${s.clientId} registered)` : ''}`;
  const who = [s.claims?.sub, s.claims?.preferred_username, s.claims?.email].find(
    (v): v is string | number => typeof v === 'string' || typeof v === 'number',
  );
  return [
    `logged in to ${s.server}`,
    `  issuer:   ${s.issuer}`,
    ...(who ? [`  subject:  ${String(who)}`] : []),
    `  client:   ${s.clientId ? `${s.clientId} (${s.clientSource})` : '(none: workload token)'}`,
    `  scopes:   ${s.scope ?? '(none)'}`,
    `  expires:  ${s.expiresAt ? `${s.expiresAt}${s.expired ? ' (expired)' : ''}` : 'unknown'}`,
    `  refresh:  ${s.hasRefreshToken ? 'yes' : 'no'}`,
    ...(s.tokenType
      ? [`  binding:  ${s.tokenType === 'DPoP' ? 'DPoP (sender-constrained)' : 'Bearer'}`]
      : []),
    ...(s.storedAt ? [`  stored:   ${s.storedAt}`] : []),
  ].join('\n');
}
