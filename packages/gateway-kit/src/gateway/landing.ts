import { html, htmlPage, type SafeHtml } from '@mcp-gateway/oauth-dynamicclient';
import type { GatewayConfig } from '../config/schema.js';
import type { ServiceRegistry } from '../services/registry.js';
import { claudeDesktopEntry, loginCommand } from './connect-hints.js';

/**
 * `/`: what a person who opens the gateway in a browser needs: the services
 * anyone may use, how to connect to them, and the sign-in / connected-apps
 * link. Services restricted to some users are not listed here. Anything but
 * a browser asking for HTML gets the JSON 404 other unknown paths get.
 */
export function landingPage(deps: { config: GatewayConfig; registry: ServiceRegistry; version: string }) {
  const issuer = deps.config.issuer.replace(/\/+$/, '');
  return {
    '/': async (request: Request): Promise<Response> => {
      const wantsHtml = (request.headers.get('accept') ?? '').includes('text/html');
      if ((request.method !== 'GET' && request.method !== 'HEAD') || !wantsHtml) {
        return Response.json(
          { error: 'not_found', error_description: 'nothing here; see /servers for the MCP services' },
          { status: 404, headers: { 'cache-control': 'no-store' } },
        );
      }
      const services = deps.registry.list().filter((e) => !e.config.users);
      const first = services[0];
      const list = services.map(
        (e) =>
          html`<li>
            <strong>${e.route.title}</strong> <span class="muted">(${e.config.type})</span><br /><code
              >${e.route.resource}</code
            >
          </li>`,
      );
      const connect: SafeHtml = first
        ? html`<h2>Connect</h2>
            <p>From a terminal, sign in once (a browser opens):</p>
            <p><code>${loginCommand(first.route.resource)}</code></p>
            <p>Claude Desktop: add this to <code>claude_desktop_config.json</code>, then restart it:</p>
            <pre><code>${JSON.stringify(claudeDesktopEntry(first.name, first.route.resource), null, 2)}</code></pre>
            <p class="muted">
              Claude.ai, the MCP Inspector and other remote clients: give them a service URL; they find this
              gateway's sign-in by themselves.
            </p>`
        : html`<p>No service is open to everyone here; sign in to see yours.</p>`;
      return htmlPage(
        'MCP gateway',
        html`<h1>MCP gateway</h1>
          <p class="muted">mcp-gateway ${deps.version} · <code>${issuer}</code></p>
          <h2>Services</h2>
          <ul>
            ${list}
          </ul>
          ${connect}
          <h2>Your account</h2>
          <p>
            <a href="${issuer}/account">Sign in and see your connected apps</a> ·
            <a href="${issuer}/servers">services as JSON</a> · <a href="${issuer}/healthz">health</a>
          </p>`,
        { productName: 'mcp-gateway' },
      );
    },
  };
}
