/** The npm package whose bin is the stdio ↔ HTTP client people connect with. */
export const CLIENT_PACKAGE = '@mcp-gateway/streamablehttp-client';

/**
 * What a person runs first: signs in through the browser once and stores the
 * credentials, so the stdio bridge a desktop app starts later needs no prompt.
 */
export function loginCommand(serviceUrl: string): string {
  return `npx -y ${CLIENT_PACKAGE} login --url ${serviceUrl}`;
}

/** The entry for `claude_desktop_config.json` (`mcpServers.<name>`). */
export function claudeDesktopEntry(name: string, serviceUrl: string): Record<string, unknown> {
  return {
    mcpServers: {
      [name]: { command: 'npx', args: ['-y', CLIENT_PACKAGE, '--url', serviceUrl, '--oauth2'] },
    },
  };
}
