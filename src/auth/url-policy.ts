/**
 * The identity provider is reached over HTTPS only. Plain http is allowed for loopback hosts
 * alone (a provider on the same machine, as in the tests), the same exception RFC 8252 7.3 makes
 * for native-app redirects. Anything else is a configuration error found at start-up.
 */

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname));
}

/** Throws a configuration error for anything but https, or http on a loopback host. */
export function assertProviderUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${what} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && !isLoopbackHttp(url)) {
    throw new TypeError(`${what} must use https (plain http only on a loopback host): ${url.origin}`);
  }
  return url;
}
