import { z } from 'zod';
import { KiB } from './json-bytes.js';

/** Resources offered by an instance: a count, or a short list. */
export const ResourcesSummarySchema = z.union([
  z.number().int().min(0).max(1_000_000),
  z
    .array(
      z.looseObject({
        uri: z.string().min(1).max(2048),
        name: z.string().max(256).optional(),
        mimeType: z.string().max(256).optional(),
        description: z
          .string()
          .max(8 * KiB)
          .optional(),
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
        description: z
          .string()
          .max(8 * KiB)
          .optional(),
        arguments: z
          .array(z.looseObject({ name: z.string().min(1).max(128) }))
          .max(64)
          .optional(),
      }),
    )
    .max(1000),
]);
export type PromptsSummary = z.infer<typeof PromptsSummarySchema>;
