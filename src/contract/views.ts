import { z } from 'zod';
import { ServiceNameSchema, TagSchema } from './names.js';

// Named views: each its own MCP endpoint `/mcp/<view>` on the proxy, advertising only the services
// (by name or tag) and tools it selects. The manifest's `views:` section and PUT /v1/views share these.

/** The view every proxy serves itself, with only the mesh's own discovery tools: a manifest may not define it. */
export const DISCOVERY_VIEW = 'discovery';

/** A view name: what `/mcp/<view>` accepts. */
export const ViewNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'a view name is 1-63 lowercase letters, digits, "_" or "-", starting with a letter or digit' });

export const ViewSchema = z
  .strictObject({
    services: z.array(ServiceNameSchema, { error: 'expected a list of service names' }).default([]).describe('services this view shows, by name'),
    tags: z.array(TagSchema, { error: 'expected a list of tags' }).default([]).describe('services this view shows, by tag (any of them)'),
    tools: z
      .record(ServiceNameSchema, z.array(z.string().min(1), { error: 'expected a list of tool names' }), { error: 'expected a map of service name to tool names' })
      .optional()
      .describe("per service, the only tools of it this view shows (the service's own tool names); a service left out shows all its tools"),
    description: z.string().max(500).optional().describe('free text'),
  })
  .refine((view) => view.services.length > 0 || view.tags.length > 0, { error: 'a view selects at least one service or tag' })
  .describe('one MCP endpoint /mcp/<view> that shows only the services and tools it selects');
export type View = z.infer<typeof ViewSchema>;
export type ViewInput = z.input<typeof ViewSchema>;

export const ViewsSchema = z.record(ViewNameSchema, ViewSchema, { error: (issue) => (issue.code === 'invalid_type' ? 'expected a map of view name to view' : undefined) }).superRefine((views, ctx) => {
  if (DISCOVERY_VIEW in views) ctx.addIssue({ code: 'custom', path: [DISCOVERY_VIEW], message: `"${DISCOVERY_VIEW}" is the built-in discovery view's name; choose another` });
});
export type Views = z.infer<typeof ViewsSchema>;

/** PUT /v1/views: the complete set of named views (replaces the previous set); `mesh up` sends its manifest's. */
export const ViewsBodySchema = z.strictObject({ views: ViewsSchema });
export type ViewsBody = z.infer<typeof ViewsBodySchema>;

/** GET /v1/views and PUT /v1/views' answer: the views with their endpoint paths (the discovery view included). */
export const ViewsAnswerSchema = z.looseObject({
  views: z.array(z.looseObject({ name: z.string(), path: z.string(), builtIn: z.boolean(), view: ViewSchema.optional() })),
});
export type ViewsAnswer = z.infer<typeof ViewsAnswerSchema>;
