import type { z } from 'zod';

/**
 * The one check of an http(s) URL for the wire contract (an instance's registered url, a remote
 * server's url): parsable, http or https, no credentials in it. Adds the issue to `ctx` and answers
 * undefined, or answers the parsed URL. `credentialsHint` ends the credentials message.
 * @example z.string().superRefine((text, ctx) => checkHttpUrl(text, ctx))
 */
export function checkHttpUrl(text: string, ctx: z.RefinementCtx, credentialsHint = ''): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a valid URL: ${JSON.stringify(text.slice(0, 100))}` });
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `scheme "${url.protocol}" not allowed: only http and https` });
    return undefined;
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: `credentials in the URL are not allowed${credentialsHint}` });
    return undefined;
  }
  return url;
}
