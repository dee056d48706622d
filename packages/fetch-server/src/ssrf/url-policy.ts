import { FetchError } from '../errors.js';

/**
 * Parses and vets a URL before anything touches the network: only `http:` and
 * `https:`, no userinfo (`user:pass@`), a host name present. The fragment is
 * dropped (it is never sent). WHATWG URL parsing normalises numeric host
 * forms (`http://2130706433/`, `http://0x7f.1/`) to dotted IPv4, so the
 * address check sees the real address.
 *
 * @throws {FetchError} `invalid_url`
 */
export function parseFetchUrl(input: string | URL, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    throw new FetchError('invalid_url', `Invalid URL: ${truncate(String(input))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError(
      'invalid_url',
      `Refused URL scheme "${url.protocol.replace(/:$/, '')}": only http and https URLs can be fetched`,
    );
  }
  if (url.username || url.password) {
    throw new FetchError(
      'invalid_url',
      'Refused URL with credentials (user:password@host): remove the userinfo part',
    );
  }
  if (!url.hostname)
    throw new FetchError('invalid_url', `Invalid URL: ${truncate(String(input))} has no host`);
  url.hash = '';
  return url;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
