import type { z } from 'zod';
import { formatZodError, zodProblems } from '../contract/zod-message.js';
import { MeshClientError, type ClientErrorContext } from './errors.js';

/**
 * A proxy's 2xx answer checked against its wire-contract schema; one that does not fit is an
 * INTERNAL error naming the fields that are wrong (a proxy of another version, or not a mesh-proxy).
 * @example const { services } = parseAnswer(ServicesAnswerSchema, body, 'GET /v1/services', { proxy })
 */
export function parseAnswer<S extends z.ZodType>(schema: S, body: unknown, what: string, context: ClientErrorContext): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new MeshClientError('INTERNAL', `the proxy at ${context.proxy} answered ${what} with a body that is not the mesh API's answer: ${formatZodError(result.error)}`, {
    context: { ...context, problems: zodProblems(result.error) },
  });
}
