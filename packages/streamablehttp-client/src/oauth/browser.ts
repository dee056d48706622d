/** The sign-in URL of the authorization-code flow: shown to the user, and opened in their browser. */
import type { Logger } from '../log.js';
import { checkBrowserUrl } from './browser-url.js';
import { openUrl } from './opener.js';

/** How a sign-in URL is announced (the `OAuthSessionOptions` fields of the same names). */
export interface SignInAnnouncement {
  /** Called with the URL. Default: print it to stderr. */
  onAuthorizationUrl?: ((url: string) => void | Promise<void>) | undefined;
  /** Open the system browser. Default true. */
  openBrowser?: boolean | undefined;
}

/**
 * Shows the sign-in URL and, unless told not to, opens it without a shell; a browser that cannot
 * open is a warning, not an error. A URL `checkBrowserUrl` refuses is neither shown nor opened
 * (an `UnsafeUrlError`).
 */
export async function announceSignIn(url: string, opts: SignInAnnouncement, log: Logger): Promise<void> {
  const checked = checkBrowserUrl(url, 'the authorization URL');
  if (opts.onAuthorizationUrl) await opts.onAuthorizationUrl(url);
  else process.stderr.write(`To sign in, open: ${url}\n`);
  if (opts.openBrowser === false) return;
  openUrl(checked, (reason) => log.warn('could not open a browser; open the URL yourself', { reason }));
}
