import { ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { RPC_CONNECTION_CLOSED, RPC_REQUEST_TIMEOUT } from '../../src/errors.js';

// v1's McpError carried one numeric code for wire errors and for the client's own timeouts and closed
// connections; v2 splits them (ProtocolError: the wire code; SdkError: a string code). The router
// decides on the number, as it always has.
/**
 * The JSON-RPC code a failed upstream request stands for: the instance's own code, -32001 for a
 * deadline, -32000 for a lost connection; undefined for anything else (an HTTP error, a bug).
 * @example rpcCodeOf(new SdkError(SdkErrorCode.RequestTimeout, 'timed out')) // -32001
 */
export function rpcCodeOf(error: unknown): number | undefined {
  if (error instanceof ProtocolError) return error.code;
  if (!(error instanceof SdkError)) return undefined;
  if (error.code === SdkErrorCode.RequestTimeout) return RPC_REQUEST_TIMEOUT;
  if (error.code === SdkErrorCode.ConnectionClosed) return RPC_CONNECTION_CLOSED;
  return undefined;
}
