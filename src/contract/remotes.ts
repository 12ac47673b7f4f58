import { z } from 'zod';
import { checkHttpUrl } from './http-url.js';
import { ServiceNameSchema, TagSchema } from './names.js';

// Remote servers: Streamable HTTP MCP servers the proxy registers, health-checks and routes to
// itself (a manifest service with `url:` instead of `command:`). Their headers carry secrets: they
// go to the server on every hop and are never logged, stored or shown.

/** An http(s) URL without credentials in it (secrets belong in `headers`). */
export const RemoteUrlSchema = z
  .string({ error: 'expected the URL of a Streamable HTTP MCP server' })
  .max(2048)
  .superRefine((text, ctx) => void checkHttpUrl(text, ctx, '; send them in headers'));

/** An HTTP header name (RFC 9110 token), kept lowercase. */
const HeaderNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, { error: "a header name is letters, digits and !#$%&'*+.^_`|~-" })
  .transform((name) => name.toLowerCase());
// No CR, LF or NUL: a header value cannot hold them.
const HeaderValueSchema = z
  .string({ error: 'expected a string value' })
  .max(8192)
  .refine((value) => !/[\r\n\0]/.test(value), { error: 'a header value cannot hold CR, LF or NUL' });

export const RemoteHeadersSchema = z.record(HeaderNameSchema, HeaderValueSchema, { error: (issue) => (issue.code === 'invalid_type' ? 'expected a map of header name to value' : undefined) });

/** One remote server as the proxy registers it. */
export const RemoteServiceSchema = z.strictObject({
  url: RemoteUrlSchema,
  headers: RemoteHeadersSchema.default({}),
  tags: z.array(TagSchema).default([]),
});
export type RemoteService = z.infer<typeof RemoteServiceSchema>;

/** PUT /v1/remotes: the complete set of remote servers (replaces the previous set); `mesh up` sends its manifest's. */
export const RemotesBodySchema = z.strictObject({ remotes: z.record(ServiceNameSchema, RemoteServiceSchema) });
export type RemotesBody = z.infer<typeof RemotesBodySchema>;

/** GET /v1/remotes and PUT /v1/remotes' answer: each remote's URL and last check, never its headers. */
export const RemotesAnswerSchema = z.looseObject({
  remotes: z.array(z.looseObject({ name: z.string(), url: z.string(), headerCount: z.number(), lastCheck: z.string().optional(), healthy: z.boolean().optional(), lastError: z.string().optional() })),
});
export type RemotesAnswer = z.infer<typeof RemotesAnswerSchema>;

/** The instance id prefix of the remote servers a proxy registers itself (`remote.<name>`). */
export const REMOTE_ID_PREFIX = 'remote.';
