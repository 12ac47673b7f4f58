import { ProtocolErrorCode } from '@modelcontextprotocol/client';
import type { MeshError } from '../../src/errors.js';

/** Whose doing a failed routed request was, as far as the instance's circuit breaker is concerned. */
export type Fault = 'instance' | 'caller' | 'answered';

/** JSON-RPC codes with which an instance refuses what the caller sent (bad arguments, unknown tool or method). */
const CALLER_RPC_CODES: ReadonlySet<number> = new Set([ProtocolErrorCode.ParseError, ProtocolErrorCode.InvalidRequest, ProtocolErrorCode.MethodNotFound, ProtocolErrorCode.InvalidParams]);

// The one place that decides what counts against an instance (the breaker's consecutive failures).
/**
 * Classifies a failed routed request, as Envoy's consecutive-gateway-failure detector does:
 * - `instance`: the instance could not be reached, reset or closed the connection, its process is
 *   gone or restarting, or it did not answer within the proxy's own deadline (502/503/504);
 * - `caller`: not the instance's doing, never counted: bad arguments or an unknown tool (-32602,
 *   -32601, 4xx), an error thrown on the proxy's side before the instance saw the request, a cancellation, or a timeout under a deadline a direct caller (no mesh hop before this
 *   one) shortened below the proxy's; a nested call's deadline is what is left of its caller's, so
 *   its timeouts count;
 * - `answered`: the instance answered with an error of its own, or an answer larger than a size limit;
 *   it ran, so this counts as a success.
 * A tool's `isError` result is no failure at all (the tool ran).
 * @example classifyFailure(new MeshError('CALL_TIMEOUT', '…'), { deadlineMs: 60_000, proxyDeadlineMs: 60_000, hops: 0 }) // 'instance'
 */
export function classifyFailure(failure: MeshError, call: { deadlineMs: number; proxyDeadlineMs: number; hops: number }): Fault {
  switch (failure.code) {
    case 'SERVICE_UNAVAILABLE':
    case 'CHILD_EXITED':
    case 'CHILD_START_FAILED':
      return 'instance';
    case 'CALL_TIMEOUT':
      return call.hops === 0 && call.deadlineMs < call.proxyDeadlineMs ? 'caller' : 'instance';
    // An answer larger than a limit (the proxy's --max-response-bytes, a sidecar's --max-message-bytes):
    // the instance ran the call and answered, too much; alive, and the size is the tool's, not a fault.
    case 'PAYLOAD_TOO_LARGE':
      return 'answered';
    case 'TOOL_ERROR':
    case 'INTERNAL': {
      const rpcCode = failure.context.rpcCode;
      // Without a JSON-RPC code the instance never answered: the proxy failed on its own side of the hop.
      if (typeof rpcCode !== 'number') return 'caller';
      return CALLER_RPC_CODES.has(rpcCode) ? 'caller' : 'answered';
    }
    default:
      return 'caller';
  }
}
