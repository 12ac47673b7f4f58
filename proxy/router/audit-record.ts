import type { Fault } from './failure-fault.js';

/** What the router reports of each routed request when it ends: the audit trail's row, the load figures' and the metrics' input. */
export interface AuditRecord {
  caller: string;
  service: string;
  instance: string | undefined;
  /** The tool's name; `resources/read <uri>` or `prompts/get <name>` for the other routed requests. */
  tool: string;
  durationMs: number;
  outcome: 'ok' | 'tool_error' | 'error' | 'timeout';
  errorCode: string | undefined;
  /** The failure's message (for the load figures' lastError; not stored). */
  errorMessage: string | undefined;
  /** Whose doing the failure was (the breakers' judgement): the load figures leave a caller's mistakes out. */
  fault: Fault | undefined;
  /** Mesh hops the call had made before reaching this proxy (0: straight from a client). */
  hops: number;
  /** The bytes of the instance's answer as read on the hop (the lean way counts them as it reads). */
  responseBytes: number | undefined;
  /** The arguments (and, when the answer was not counted, the result): their JSON sizes are measured when the audit batch is stored, off the call's path. */
  request: unknown;
  response: unknown;
  /** The W3C trace id of the call (continued from the caller, else started here). */
  traceId?: string | undefined;
}
