import { z } from 'zod';

/**
 * The error answer of MM's HTTP APIs, as src/errors.ts `toHttpError` builds it: `{ error: { code,
 * message, ...context } }`. Read leniently: a server that is not a mesh-proxy may send part of it, or a
 * code or message that is not a string (then left out).
 */
export const ErrorAnswerSchema = z.object({
  error: z.looseObject({ code: z.string().optional().catch(undefined), message: z.string().optional().catch(undefined) }),
});
export type ErrorAnswer = z.infer<typeof ErrorAnswerSchema>;
