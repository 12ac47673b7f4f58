import { z } from 'zod';
import { checkHttpUrl } from './http-url.js';
import { ClaimSchema, LeaseSchema } from './lease.js';
import { InstanceIdSchema, ServiceNameSchema, TagSchema } from './names.js';
import { PromptsSummarySchema, ResourcesSummarySchema } from './offerings.js';
import { InstanceViewSchema } from './services.js';
import { ChildStateSchema, InstanceKindSchema } from './states.js';
import { ToolSchema } from './tool.js';

// POST /v1/instances: what an instance tells the proxy about itself (metadata only, never a
// command to run), and what the proxy answers.

/** A proxy's policy on the hosts a registration names (its `host` and its url's host): a problem, or undefined when allowed. */
export type HostCheck = (host: string) => string | undefined;

const unknownFieldMessage =
  'field not allowed: a registration is metadata only (id, name, url, host, port, pid, tags, tools, ' +
  'toolsHash, version, kind, state, resources, prompts, claim) and never something for the proxy to run';

/**
 * The registration body's schema; `hostCheck` adds a proxy's host policy (its loopback rule) to the
 * `host` and `url` fields, so a refusal names the field like any other.
 * @example const schema = buildRegistrationSchema((host) => (isLoopbackHost(host) ? undefined : `host "${host}" is not loopback`))
 */
export function buildRegistrationSchema(hostCheck: HostCheck = () => undefined) {
  const checkHost = (host: string, ctx: { addIssue: (issue: { code: 'custom'; message: string }) => void }) => {
    const problem = hostCheck(host);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  };
  return z
    .strictObject(
      {
        id: InstanceIdSchema,
        name: ServiceNameSchema,
        url: z
          .string()
          .max(2048)
          .superRefine((text, ctx) => {
            const url = checkHttpUrl(text, ctx);
            if (url) checkHost(url.hostname, ctx);
          }),
        host: z.string().min(1).max(255).superRefine(checkHost),
        port: z.number().int().min(1).max(65535),
        pid: z
          .number()
          .int()
          .min(1)
          .max(2 ** 31 - 1)
          .optional(),
        tags: z.array(TagSchema).max(32).default([]),
        tools: z.array(ToolSchema).max(1000),
        toolsHash: z.string().min(1).max(128),
        version: z.string().min(1).max(64),
        kind: InstanceKindSchema,
        state: ChildStateSchema.optional(),
        resources: ResourcesSummarySchema.optional(),
        prompts: PromptsSummarySchema.optional(),
        /** The instance's claim (src/http/lease.ts): proves a registration of a live id without its lease comes from that URL's server. Never stored. */
        claim: ClaimSchema.optional(),
      },
      { error: (issue) => (issue.code === 'unrecognized_keys' ? unknownFieldMessage : undefined) },
    )
    .superRefine((registration, ctx) => {
      const seen = new Set<string>();
      registration.tools.forEach((tool, index) => {
        if (seen.has(tool.name)) {
          ctx.addIssue({ code: 'custom', path: ['tools', index, 'name'], message: `duplicate tool name "${tool.name}"` });
        }
        seen.add(tool.name);
      });
    });
}

/** A registration body, whatever host it names (a proxy adds its host policy with buildRegistrationSchema). */
export const RegistrationSchema = buildRegistrationSchema();
export type Registration = z.infer<typeof RegistrationSchema>;
/** A registration as an instance sends it (`tags` may be left out). */
export type RegistrationInput = z.input<typeof RegistrationSchema>;

/** POST /v1/instances' answer (201 when the id is new, 200 when it updated it): the instance as registered, and its lease. */
export const RegistrationAnswerSchema = z.looseObject({ instance: InstanceViewSchema, lease: LeaseSchema });
export type RegistrationAnswer = z.infer<typeof RegistrationAnswerSchema>;

/** The part of POST /v1/instances' answer a registering instance keeps. */
export const RegisteredAnswerSchema = RegistrationAnswerSchema.pick({ lease: true });
export type RegisteredAnswer = z.infer<typeof RegisteredAnswerSchema>;
