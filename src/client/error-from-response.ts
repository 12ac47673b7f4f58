import { ErrorAnswerSchema } from '../contract/error-answer.js';
import { isMeshErrorCode, MeshError, type MeshErrorCode } from '../errors.js';
import { CallTimeout, LoopDetected, MeshClientError, ServiceNotFound, ServiceUnavailable, ToolNotFound, type ClientErrorContext } from './errors.js';

const typed: Partial<Record<string, new (message: string, options: { context: ClientErrorContext; cause?: unknown }) => MeshClientError>> = {
  SERVICE_NOT_FOUND: ServiceNotFound,
  TOOL_NOT_FOUND: ToolNotFound,
  SERVICE_UNAVAILABLE: ServiceUnavailable,
  CALL_TIMEOUT: CallTimeout,
  LOOP_DETECTED: LoopDetected,
};

// Used when a body carries no mesh code (a bearer-auth 401, another server on the port, ...).
const byStatus: Partial<Record<number, MeshErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  413: 'PAYLOAD_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
  504: 'CALL_TIMEOUT',
  508: 'LOOP_DETECTED',
};

/**
 * Turns a proxy's error answer (`{ error: { code, message, ...context } }` with an HTTP status)
 * into the matching typed error; anything else becomes a MeshClientError with the closest code.
 * @example throw errorFromResponse(404, await response.json(), { proxy, service: 'fs' })
 */
export function errorFromResponse(httpStatus: number, body: unknown, context: ClientErrorContext): MeshError {
  const answer = ErrorAnswerSchema.safeParse(body);
  const { code, message, ...extra } = answer.success ? answer.data.error : {};
  const full: ClientErrorContext = { ...extra, ...context, httpStatus };
  const text = typeof message === 'string' ? message : describe(body);
  const Typed = typeof code === 'string' ? typed[code] : undefined;
  if (Typed) return new Typed(text, { context: full });
  const meshCode: MeshErrorCode = isMeshErrorCode(code) ? code : (byStatus[httpStatus] ?? 'INTERNAL');
  const StatusTyped = typed[meshCode];
  const prefix = typeof message === 'string' ? '' : `the proxy at ${context.proxy} answered HTTP ${httpStatus}: `;
  if (StatusTyped) return new StatusTyped(`${prefix}${text}`, { context: full });
  return new MeshClientError(meshCode, `${prefix}${text}`, { context: { ...full, ...(typeof code === 'string' ? { remoteCode: code } : {}) } });
}

function describe(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return (text ?? '').trim().slice(0, 300) || '(empty body)';
}
