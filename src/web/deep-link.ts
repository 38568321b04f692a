/**
 * Deep links: `/#/NAMESPACE/POD/CONTAINER` opens a terminal, `/#/NAMESPACE/POD` a terminal in the
 * pod's default container, `/#/NAMESPACE` the picker there, `/#watch=TOKEN` watches a shared
 * terminal (the share link; `=` is in no namespace name, so it cannot be mistaken for one). The App keeps the hash on the active tab, which is what makes a reload come back to the
 * same terminal. Pure functions, no DOM: the unit tests run them in Node.
 */
export interface DeepLink {
  namespace: string;
  pod: string | null;
  container: string | null;
}

export function parseHash(hash: string): DeepLink | null {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 3) return null;
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    return null;
  }
  return { namespace: decoded[0]!, pod: decoded[1] ?? null, container: decoded[2] ?? null };
}

export function formatHash(link: DeepLink | null): string {
  if (!link) return '#/';
  return '#/' + [link.namespace, link.pod, link.container].filter((p): p is string => p !== null).map(encodeURIComponent).join('/');
}

const WATCH = /^#watch=([A-Za-z0-9._-]{1,1024})$/;

/** The share token of a `#watch=TOKEN` link, or null. */
export function parseWatchHash(hash: string): string | null {
  return WATCH.exec(hash)?.[1] ?? null;
}

export function formatWatchHash(token: string): string {
  return `#watch=${token}`;
}
