/**
 * MCP 2026-07-28 security best practices, "OAuth Authorization URL Validation": an authorization
 * endpoint the client would open is `https:`, or `http:` on a loopback host; anything else is
 * refused (`UnsafeUrlError`) before registration and before the URL is shown to the host. The
 * opener side (no shell, and the CLI's refusal before it runs) is in `browser.test.ts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createOAuthSession,
  doctor,
  EXIT_CODES,
  MemoryTokenStore,
  UnsafeUrlError,
  type AuthError,
} from '../src/index.js';
import { checkBrowserUrl } from '../src/oauth/browser-url.js';
import { startServerWithAuthorizationEndpoint } from './helpers/fake-as.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serverWithAuthorizationEndpoint(endpoint: string) {
  const s = await startServerWithAuthorizationEndpoint(endpoint);
  closers.push(() => s.close());
  return s;
}

const BAD_ENDPOINTS: Array<[string, RegExp]> = [
  ['file:///etc/passwd', /the file: scheme is not allowed/],
  ['javascript:alert(1)', /the javascript: scheme is not allowed/],
  ['data:text/html,<script>alert(1)</script>', /the data: scheme is not allowed/],
  ['vbscript:msgbox(1)', /the vbscript: scheme is not allowed/],
  ['ms-settings:', /the ms-settings: scheme is not allowed/],
  [' JavaScript:alert(1)', /the javascript: scheme is not allowed/],
  [
    'http://login.evil.example/authorize',
    /http: is accepted only on a loopback host .*, not login\.evil\.example; authorization servers must use https:/,
  ],
  ['http://127.0.0.1.evil.example/authorize', /not 127\.0\.0\.1\.evil\.example/],
  ['http://localhost.evil.example/authorize', /not localhost\.evil\.example/],
];

describe('authorization URL validation (MCP 2026-07-28 security best practices)', () => {
  it.each(BAD_ENDPOINTS)(
    'authorization url: %s is refused with UnsafeUrlError; nothing is registered or announced',
    async (endpoint, reason) => {
      const s = await serverWithAuthorizationEndpoint(endpoint);
      const announced: string[] = [];
      const store = new MemoryTokenStore();
      const sess = createOAuthSession({
        serverUrl: `${s.url}/mcp`,
        store,
        openBrowser: false,
        onAuthorizationUrl: (u) => void announced.push(u),
        // Without the check the sign-in would wait for a browser: fail fast instead.
        authTimeoutMs: 3_000,
      });
      const err = (await sess.login().catch((e: unknown) => e)) as AuthError;
      expect(err).toBeInstanceOf(UnsafeUrlError);
      expect(err.code).toBe('unsafe_authorization_url');
      expect(err.exitCode).toBe(EXIT_CODES.auth);
      expect((err as UnsafeUrlError).url).toBe(endpoint);
      expect(err.message).toContain(
        `refusing to open the authorization_endpoint of ${s.url}/ ${JSON.stringify(endpoint)}: `,
      );
      expect(err.message).toMatch(reason);
      expect(announced).toEqual([]);
      expect(s.registrations()).toBe(0);
      expect(await store.list(`${s.url}/mcp`)).toEqual([]);
    },
  );

  it.each([
    ['{base}/authorize', 'http on 127.0.0.1'],
    ['http://localhost:9/authorize', 'http on localhost'],
    ['http://[::1]:9/authorize', 'http on [::1]'],
    ['http://127.1.2.3:9/authorize', 'http in 127.0.0.0/8'],
    ['https://login.example/authorize', 'https anywhere'],
  ])('authorization url: %s (%s) is accepted: registered, announced', async (endpoint) => {
    const s = await serverWithAuthorizationEndpoint(endpoint);
    const announced: string[] = [];
    const sess = createOAuthSession({
      serverUrl: `${s.url}/mcp`,
      store: new MemoryTokenStore(),
      openBrowser: false,
      // The user denies: the callback gets an error redirect and the sign-in ends at once.
      onAuthorizationUrl: async (u) => {
        announced.push(u);
        const url = new URL(u);
        const back = new URL(url.searchParams.get('redirect_uri')!);
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('state', url.searchParams.get('state')!);
        void fetch(back).then((r) => r.body?.cancel());
      },
    });
    const err = (await sess.login().catch((e: unknown) => e)) as AuthError;
    expect(err.code).toBe('access_denied');
    expect(announced).toHaveLength(1);
    const shown = new URL(announced[0]!);
    expect(`${shown.origin}${shown.pathname}`).toBe(new URL(endpoint.replace('{base}', s.url)).href);
    expect(s.registrations()).toBe(1);
  });

  it('authorization url: http: only on a loopback host, never another scheme, and only plain host names', () => {
    expect(checkBrowserUrl('http://127.0.0.1:8080/authorize', 'x').href).toBe(
      'http://127.0.0.1:8080/authorize',
    );
    expect(checkBrowserUrl('http://[::1]/authorize', 'x').href).toBe('http://[::1]/authorize');
    expect(checkBrowserUrl('https://login.example.com/authorize?a=1&b="x"', 'x').hostname).toBe(
      'login.example.com',
    );
    expect(() => checkBrowserUrl('http://as.internal/authorize', 'x')).toThrow(/loopback host/);
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'ftp://localhost/x']) {
      expect(() => checkBrowserUrl(bad, 'x')).toThrow(/scheme is not allowed/);
    }
    // Characters the URL parser keeps in a host (it escapes them in paths and queries).
    for (const bad of ['https://a"b.example/x', 'https://a`b.example/', 'https://a{b}.example/']) {
      expect(() => checkBrowserUrl(bad, 'x'), bad).toThrow(/not a plain host name/);
    }
    expect(() => checkBrowserUrl('not a url', 'x')).toThrow(/: it is not a URL$/);
  });

  it('doctor: an authorization endpoint a sign-in would refuse fails the endpoints check', async () => {
    const s = await serverWithAuthorizationEndpoint('http://login.evil.example/authorize');
    const report = await doctor(`${s.url}/mcp`);
    const endpoints = report.checks.find((c) => c.id === 'endpoints')!;
    expect(endpoints.status).toBe('fail');
    expect(endpoints.detail).toMatch(
      /^refusing to open the authorization_endpoint "http:\/\/login\.evil\.example\/authorize": http: is accepted only on a loopback host/,
    );
    expect(report.ok).toBe(false);
  });
});
