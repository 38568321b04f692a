/**
 * The built page, read into memory once at start. Only flat file names that match an allow-list are
 * served (no paths, no dot-files), with their content type; the HTML gets the strict CSP below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

/** The page's Content-Security-Policy. The web engineer may adjust this constant (and only this). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  body: Buffer;
  type: string;
  /** Extra headers (CSP on HTML). */
  headers: Array<[string, string]>;
}

const COMMON_HEADERS: Array<[string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-cache'],
];

/** Returns the files by name, or undefined when the folder (or its index.html) is missing. */
export function loadStaticFiles(webRoot: string): Map<string, StaticFile> | undefined {
  let names: string[];
  try {
    names = readdirSync(webRoot);
  } catch {
    return undefined;
  }
  const files = new Map<string, StaticFile>();
  for (const name of names) {
    const type = TYPES[extname(name).toLowerCase()];
    const path = join(webRoot, name);
    if (!FILE_NAME.test(name) || type === undefined || !statSync(path).isFile()) continue;
    const headers = [...COMMON_HEADERS];
    if (type.startsWith('text/html')) headers.push(['Content-Security-Policy', CONTENT_SECURITY_POLICY]);
    files.set(name, { body: readFileSync(path), type, headers });
  }
  return files.has('index.html') ? files : undefined;
}
