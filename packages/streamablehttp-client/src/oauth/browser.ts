/** The sign-in URL of the authorization-code flow: shown to the user, and opened in their browser. */
import open from 'open';
import type { Logger } from '../log.js';

/** How a sign-in URL is announced (the `OAuthSessionOptions` fields of the same names). */
export interface SignInAnnouncement {
  /** Called with the URL. Default: print it to stderr. */
  onAuthorizationUrl?: ((url: string) => void | Promise<void>) | undefined;
  /** Open the system browser. Default true. */
  openBrowser?: boolean | undefined;
}

/** Shows the sign-in URL and, unless told not to, opens it; a browser that cannot open is a warning, not an error. */
export async function announceSignIn(url: string, opts: SignInAnnouncement, log: Logger): Promise<void> {
  if (opts.onAuthorizationUrl) await opts.onAuthorizationUrl(url);
  else process.stderr.write(`To sign in, open: ${url}\n`);
  if (opts.openBrowser === false) return;
  const cannotOpen = (reason: string) =>
    log.warn('could not open a browser; open the URL yourself', { reason });
  try {
    // `open` runs the platform opener (its bundled xdg-open on Linux, which honours $BROWSER).
    const child = await open(url, { wait: false });
    child.once('error', (err) => cannotOpen(err.message));
    child.once('exit', (code) => {
      if (code) cannotOpen(`the opener exited with code ${code}`);
    });
    child.unref();
  } catch (err) {
    cannotOpen(String(err));
  }
}
