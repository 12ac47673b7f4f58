import { z } from 'zod';
import { ClaimSchema } from '../../src/http/lease.js';
import { isLoopbackHost } from './loopback.js';

// The registry's boundary: every registration and heartbeat body, and every row read back from
// the registry file, passes through these schemas. Types are inferred beside each schema.

const KiB = 1024;

// Byte length of a value once serialized, so size caps match what travels and what is stored.
function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** A service name: `fs`, `memory`, `story-engine`. Several instances of one name are replicas. */
export const ServiceNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
    error: 'must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit',
  });
export type ServiceName = z.infer<typeof ServiceNameSchema>;

/** An instance id, chosen by the sidecar; stable across its re-registrations. */
export const InstanceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, {
    error: 'must be 1-128 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter or digit',
  });
export type InstanceId = z.infer<typeof InstanceIdSchema>;

/** One tag on an instance (`python`, `team:story`, `v2`). */
export const TagSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1-64 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-"' });

/** A JSON Schema of `type: "object"`, as MCP requires for tool input and output schemas. */
export const ObjectJsonSchemaSchema = z
  .looseObject({
    type: z.literal('object'),
    properties: z.record(z.string(), z.unknown()).optional(),
    required: z.array(z.string()).optional(),
  })
  .refine((schema) => jsonBytes(schema) <= 64 * KiB, { error: 'larger than 64 KiB once serialized' });
export type ObjectJsonSchema = z.infer<typeof ObjectJsonSchemaSchema>;

/** MCP tool annotations (hints only; never trusted for security decisions). */
export const ToolAnnotationsSchema = z.looseObject({
  title: z.string().max(256).optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});

/**
 * An MCP tool as listed by `tools/list`. Loose on purpose: newer MCP revisions add fields
 * (`icons`, `execution`) that must pass through; the proxy never acts on any of them.
 */
export const ToolSchema = z.looseObject({
  name: z.string().min(1).max(128),
  title: z.string().max(256).optional(),
  description: z
    .string()
    .refine((text) => Buffer.byteLength(text, 'utf8') <= 8 * KiB, { error: 'longer than 8 KiB' })
    .optional(),
  inputSchema: ObjectJsonSchemaSchema,
  outputSchema: ObjectJsonSchemaSchema.optional(),
  annotations: ToolAnnotationsSchema.optional(),
  _meta: z.record(z.string(), z.unknown()).optional(),
});
export type Tool = z.infer<typeof ToolSchema>;

/** What the child process is doing, as its sidecar reports it. */
export const ChildStateSchema = z.enum(['starting', 'ready', 'restarting', 'crashloop']);
export type ChildState = z.infer<typeof ChildStateSchema>;

/** An instance's health as the registry sees it; only `healthy` instances are routed to. */
export const InstanceStatusSchema = z.enum(['starting', 'healthy', 'unhealthy', 'restarting', 'crashloop']);
export type InstanceStatus = z.infer<typeof InstanceStatusSchema>;

/** Who registered: a sidecar wrapping a stdio child, or a native TypeScript instance. */
export const InstanceKindSchema = z.enum(['sidecar', 'native']);
export type InstanceKind = z.infer<typeof InstanceKindSchema>;

/** Resources offered by an instance: a count, or a short list. */
export const ResourcesSummarySchema = z.union([
  z.number().int().min(0).max(1_000_000),
  z
    .array(
      z.looseObject({
        uri: z.string().min(1).max(2048),
        name: z.string().max(256).optional(),
        mimeType: z.string().max(256).optional(),
        description: z.string().max(8 * KiB).optional(),
      }),
    )
    .max(1000),
]);
export type ResourcesSummary = z.infer<typeof ResourcesSummarySchema>;

/** Prompts offered by an instance: a count, or a short list. */
export const PromptsSummarySchema = z.union([
  z.number().int().min(0).max(1_000_000),
  z
    .array(
      z.looseObject({
        name: z.string().min(1).max(128),
        title: z.string().max(256).optional(),
        description: z.string().max(8 * KiB).optional(),
        arguments: z.array(z.looseObject({ name: z.string().min(1).max(128) })).max(64).optional(),
      }),
    )
    .max(1000),
]);
export type PromptsSummary = z.infer<typeof PromptsSummarySchema>;

const unknownFieldMessage =
  'field not allowed: a registration is metadata only (id, name, url, host, port, pid, tags, tools, ' +
  'toolsHash, version, kind, state, resources, prompts, claim) and never something for the proxy to run';

// Builds the registration schema; remote instances are refused unless the proxy allows them.
function buildRegistrationSchema(allowRemote: boolean) {
  const loopbackOnly = (host: string, ctx: { addIssue: (issue: { code: 'custom'; message: string }) => void }) => {
    if (!allowRemote && !isLoopbackHost(host)) {
      ctx.addIssue({ code: 'custom', message: `host "${host}" is not loopback and this proxy does not accept remote instances` });
    }
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
            let url: URL;
            try {
              url = new URL(text);
            } catch {
              ctx.addIssue({ code: 'custom', message: 'not a valid URL' });
              return;
            }
            if (url.protocol !== 'http:' && url.protocol !== 'https:') {
              ctx.addIssue({ code: 'custom', message: `scheme "${url.protocol}" not allowed; use http or https` });
              return;
            }
            if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'credentials in the URL are not allowed' });
            loopbackOnly(url.hostname, ctx);
          }),
        host: z.string().min(1).max(255).superRefine(loopbackOnly),
        port: z.number().int().min(1).max(65535),
        pid: z.number().int().min(1).max(2 ** 31 - 1).optional(),
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

const localRegistration = buildRegistrationSchema(false);
const anyRegistration = buildRegistrationSchema(true);

/** A registration from a loopback-only proxy (the default). */
export const RegistrationSchema = localRegistration;
export type Registration = z.infer<typeof RegistrationSchema>;
export type RegistrationInput = z.input<typeof RegistrationSchema>;

/**
 * The registration schema for a proxy's policy.
 * @example registrationSchema({ allowRemote: true }).parse(body)
 */
export function registrationSchema(options: { allowRemote?: boolean } = {}): typeof RegistrationSchema {
  return options.allowRemote ? anyRegistration : localRegistration;
}

/**
 * A heartbeat body; every field optional, nothing else accepted. The instance's lease is not in the
 * body: it travels in the `x-mesh-lease` header (`LEASE_HEADER`, `LeaseSchema`, re-exported below).
 */
export const HeartbeatSchema = z.strictObject({
  /** The service the beating instance belongs to; a beat naming another service is refused (409). */
  name: ServiceNameSchema.optional(),
  state: ChildStateSchema.optional(),
  toolsHash: z.string().min(1).max(128).optional(),
  inflight: z.number().int().min(0).optional(),
  calls: z.number().int().min(0).optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
export type HeartbeatInput = z.input<typeof HeartbeatSchema>;

/** How a routed call ended, as kept in the audit trail. */
export const AuditOutcomeSchema = z.enum(['ok', 'tool_error', 'error', 'timeout']);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

// The lease's wire contract lives in src/ (the instance runtime sends it; src never imports proxy/).
export { ClaimSchema, LEASE_HEADER, LeaseSchema, RegisteredAnswerSchema, type Lease, type RegisteredAnswer } from '../../src/http/lease.js';
