/**
 * Launch options for Debian's Chromium under playwright-core:
 * `chromium.launch(chromiumLaunchOptions())`. The background-networking flags
 * keep a closed-network machine from stalling on Google's hosts.
 */
export function chromiumLaunchOptions(): { executablePath: string; args: string[]; headless: true } {
  return {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  };
}
