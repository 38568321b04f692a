/**
 * A plain HTTP "browser" for sign-in tests: follows redirects by hand, keeps a cookie jar (by
 * name; every test server here is one host), and reads and posts the HTML forms of the test IdP.
 * It is deliberately dumb, so that the flow it drives is the provider's, not ours.
 */
import assert from 'node:assert/strict';

export interface Page {
  url: string;
  status: number;
  location: string | undefined;
  body: string;
}

export interface Form {
  action: string;
  fields: Record<string, string>;
}

export class FormAgent {
  readonly jar = new Map<string, string>();

  async request(url: string, form?: Record<string, string>): Promise<Page> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const sc of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = sc.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (gone) this.jar.delete(name);
      else this.jar.set(name, pair.slice(eq + 1).trim());
    }
    const location = res.headers.get('location') ?? undefined;
    return { url, status: res.status, location: location && new URL(location, url).href, body: await res.text() };
  }

  /** Follows redirects from `url` until a page that is not one, or a Location that `stop` accepts. */
  async follow(url: string, stop: (location: string) => boolean, form?: Record<string, string>): Promise<Page> {
    let page = await this.request(url, form);
    for (let hops = 0; page.location && !stop(page.location); hops++) {
      assert.ok(hops < 20, `redirect loop at ${page.url}`);
      page = await this.request(page.location);
    }
    return page;
  }
}

function decodeHtml(s: string): string {
  return s.replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** The first POST form of a page, with its hidden and pre-filled inputs. */
export function readForm(page: Page): Form {
  const m = /<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(page.body) ??
    /<form[^>]*action="([^"]*)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(page.body);
  assert.ok(m, `no form on ${page.url} (status ${page.status}): ${page.body.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const input of (m[2] as string).matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/.exec(input[0])?.[1];
    if (name) fields[name] = decodeHtml(value ?? '');
  }
  return { action: new URL(decodeHtml(m[1] as string), page.url).href, fields };
}

/**
 * Signs in at the test IdP from an authorization URL: login form, then the consent form when the
 * provider asks for it. Returns the redirect to the client's redirect URI (code, state, iss).
 */
export async function signInWithForms(agent: FormAgent, authorizeUrl: string, redirectUri: string,
  login: string, password: string): Promise<string> {
  const atClient = (l: string): boolean => l.startsWith(redirectUri);
  let page = await agent.follow(authorizeUrl, atClient);
  for (let step = 0; !page.location; step++) {
    assert.ok(step < 3, `sign-in did not finish: ${page.body.slice(0, 300)}`);
    assert.equal(page.status, 200, `sign-in page ${page.url}: ${page.body.slice(0, 300)}`);
    const form = readForm(page);
    const answer = /\/login$/.test(form.action) ? { ...form.fields, login, password } : form.fields;
    page = await agent.follow(form.action, atClient, answer);
  }
  return page.location;
}
