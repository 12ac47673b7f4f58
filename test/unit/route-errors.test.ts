import t from 'tap';
import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import { MeshError, RPC_CONNECTION_CLOSED, RPC_REQUEST_TIMEOUT } from '../../src/errors.js';
import { classifyFailure } from '../../proxy/router/failure-fault.js';
import { NotSentError } from '../../proxy/router/json-post.js';
import { toRouteError } from '../../proxy/router/route-errors.js';

// What the SDK client's fetch throws (undici): TypeError('fetch failed') naming the socket's code only in its cause.
const fetchFailed = (code: string, message: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });

const label = { text: 'svc.tool', context: { service: 'svc', tool: 'tool' } };
const fault = (error: unknown) => classifyFailure(toRouteError(error, label, 1_000), { deadlineMs: 1_000, proxyDeadlineMs: 1_000, hops: 0 });

// What an upstream request threw, as the router maps it and its breaker judges it.
t.test("only the instance's own faults count against it; the caller's and the mesh's own never do", async (t) => {
  t.equal(fault(new SdkError(SdkErrorCode.ConnectionClosed, 'tools/call to 127.0.0.1:1: connect ECONNREFUSED')), 'instance', 'connection refused or reset');
  t.equal(fault(fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), 'instance', 'fetch failed: refused');
  t.equal(fault(fetchFailed('UND_ERR_SOCKET', 'other side closed')), 'instance', 'fetch failed: the instance closed the connection');
  t.equal(fault(fetchFailed('ECONNRESET', 'read ECONNRESET')), 'instance', 'fetch failed: reset');
  t.equal(toRouteError(fetchFailed('UND_ERR_SOCKET', 'other side closed'), label, 1_000).code, 'SERVICE_UNAVAILABLE');
  t.equal(fault(new NotSentError('the instance is shutting down (HTTP 503, draining); the request was not served')), 'instance', "a draining instance's 503 is no breaker success");
  t.equal(fault(new TypeError("Cannot read properties of undefined (reading 'socket')")), 'caller', "a TypeError in the proxy's own code is not the instance's");
  t.equal(toRouteError(new TypeError("Cannot read properties of undefined (reading 'socket')"), label, 1_000).code, 'INTERNAL', 'a proxy-side TypeError is INTERNAL');
  t.equal(fault(new ProtocolError(RPC_CONNECTION_CLOSED, 'child unavailable', { code: 'SERVICE_UNAVAILABLE' })), 'instance', 'a sidecar saying its child cannot serve');
  t.equal(fault(new RangeError('Maximum call stack size exceeded')), 'caller', "a body the proxy could not serialize (the caller's)");
  t.equal(toRouteError(new RangeError('Maximum call stack size exceeded'), label, 1_000).code, 'INTERNAL', "the proxy's own failure is not SERVICE_UNAVAILABLE");
  t.equal(fault(new MeshError('BAD_REQUEST', 'bad arguments')), 'caller', "the mesh's own refusal");
  t.equal(fault(new ProtocolError(ProtocolErrorCode.InvalidParams, 'bad arguments')), 'caller', 'the instance refusing the arguments');
  t.equal(fault(new ProtocolError(ProtocolErrorCode.InternalError, 'tool blew up')), 'answered', 'an error the instance answered with: it ran');
});

// v2 splits v1's McpError: the wire's code on ProtocolError, the client's own timeout and lost
// connection on SdkError with string codes. The router still maps them by the v1 numbers.
t.test("SDK v2 errors map as v1's McpError did: by JSON-RPC code, local timeouts and closes included", async (t) => {
  const local = toRouteError(new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out'), label, 1_000);
  t.equal(local.code, 'CALL_TIMEOUT', "the client's own deadline");
  t.equal(local.message, 'svc.tool did not answer within 1000 ms');
  const wire = toRouteError(new ProtocolError(RPC_REQUEST_TIMEOUT, 'fs: tool "x" did not answer', { code: 'CALL_TIMEOUT' }), label, 1_000);
  t.equal(wire.code, 'CALL_TIMEOUT', 'a sidecar answering -32001');
  const closed = toRouteError(new SdkError(SdkErrorCode.ConnectionClosed, 'the instance closed the stream before answering'), label, 1_000);
  t.same([closed.code, closed.context.rpcCode], ['SERVICE_UNAVAILABLE', RPC_CONNECTION_CLOSED], 'a lost connection is -32000 in the context');
  const answered = toRouteError(new ProtocolError(ProtocolErrorCode.InvalidParams, 'MCP error -32602: MCP error -32602: no such uri', { code: 'RESOURCE_NOT_FOUND' }), label, 1_000);
  t.same([answered.code, answered.message, answered.context.rpcCode], ['RESOURCE_NOT_FOUND', 'svc.tool: no such uri', -32602], 'v1 peers\' "MCP error" prefixes are dropped');
  const foreign = toRouteError(new ProtocolError(ProtocolErrorCode.InvalidParams, 'no such thing', { code: 'THING_MISSING' }), label, 1_000);
  t.same([foreign.code, foreign.context.rpcCode, foreign.context.remoteCode], ['TOOL_ERROR', -32602, 'THING_MISSING'], "a code that is not MM's never becomes a MeshError code");
  const http = toRouteError(new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, 'Error POSTing to endpoint (HTTP 500)', { status: 500, statusText: 'x' }), label, 1_000);
  t.equal(http.code, 'INTERNAL', 'an HTTP error of the transport is no JSON-RPC answer');
});
