/**
 * Extra request headers on client-node's generated API calls, with repeated header lines.
 *
 * client-node 1.4 keeps request headers in a plain object (RequestContext.setHeaderParam: one value
 * per name) and hands it to node-fetch; `Impersonate-Group` must be sent as one header line per
 * group (the API server reads the header's list of values and never splits them on commas). So a
 * middleware hands the HTTP library a request context whose headers are a list of pairs, which
 * node-fetch's Headers takes as its init (the Fetch standard's sequence form), one line each.
 * Any `Impersonate-*` header already on the request is dropped: only ours go out.
 */
import { Observable, type ConfigurationOptions, type ObservableMiddleware, type RequestContext } from '@kubernetes/client-node';

export type HeaderLines = Readonly<Record<string, readonly string[]>>;

function withLines(ctx: RequestContext, extra: HeaderLines): RequestContext {
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(ctx.getHeaders())) if (!/^impersonate-/i.test(k)) pairs.push([k, v]);
  for (const [k, values] of Object.entries(extra)) for (const v of values) pairs.push([k, v]);
  // A view of the same context (its URL, body, agent, signal) with only getHeaders() replaced.
  const view = Object.create(ctx) as RequestContext;
  Object.defineProperty(view, 'getHeaders', { value: () => pairs });
  return view;
}

export function headerMiddleware(extra: HeaderLines): ObservableMiddleware {
  return {
    pre: (ctx) => new Observable(Promise.resolve(Object.keys(extra).length > 0 ? withLines(ctx, extra) : ctx)),
    post: (res) => new Observable(Promise.resolve(res)),
  };
}

/** Per-call options for an Object API call that add `extra` (and nothing else). */
export function headerOptions(extra: HeaderLines): ConfigurationOptions {
  return { middleware: [headerMiddleware(extra)], middlewareMergeStrategy: 'append' };
}
