import t from 'tap';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { MeshError } from '../../src/errors.js';
import { classifyFailure } from '../../proxy/router/failure-fault.js';
import { NotSentError } from '../../proxy/router/json-post.js';
import { toRouteError } from '../../proxy/router/route-errors.js';

// What the SDK client's fetch throws (undici): TypeError('fetch failed') naming the socket's code only in its cause.
const fetchFailed = (code: string, message: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });

const label = { text: 'svc.tool', context: { service: 'svc', tool: 'tool' } };
const fault = (error: unknown) => classifyFailure(toRouteError(error, label, 1_000), { deadlineMs: 1_000, proxyDeadlineMs: 1_000, hops: 0 });

// What an upstream request threw, as the router maps it and its breaker judges it.
t.test('only the instance\'s own faults count against it; the caller\'s and the mesh\'s own never do', async (t) => {
  t.equal(fault(new McpError(ErrorCode.ConnectionClosed, 'tools/call to 127.0.0.1:1: connect ECONNREFUSED')), 'instance', 'connection refused or reset');
  t.equal(fault(fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), 'instance', 'fetch failed: refused');
  t.equal(fault(fetchFailed('UND_ERR_SOCKET', 'other side closed')), 'instance', 'fetch failed: the instance closed the connection');
  t.equal(fault(fetchFailed('ECONNRESET', 'read ECONNRESET')), 'instance', 'fetch failed: reset');
  t.equal(toRouteError(fetchFailed('UND_ERR_SOCKET', 'other side closed'), label, 1_000).code, 'SERVICE_UNAVAILABLE');
  t.equal(fault(new NotSentError('the instance is shutting down (HTTP 503, draining); the request was not served')), 'instance', 'a draining instance\'s 503 is no breaker success');
  t.equal(fault(new TypeError("Cannot read properties of undefined (reading 'socket')")), 'caller', 'a TypeError in the proxy\'s own code is not the instance\'s');
  t.equal(toRouteError(new TypeError("Cannot read properties of undefined (reading 'socket')"), label, 1_000).code, 'INTERNAL', 'a proxy-side TypeError is INTERNAL');
  t.equal(fault(new McpError(ErrorCode.ConnectionClosed, 'child unavailable', { code: 'SERVICE_UNAVAILABLE' })), 'instance', 'a sidecar saying its child cannot serve');
  t.equal(fault(new RangeError('Maximum call stack size exceeded')), 'caller', 'a body the proxy could not serialize (the caller\'s)');
  t.equal(toRouteError(new RangeError('Maximum call stack size exceeded'), label, 1_000).code, 'INTERNAL', 'the proxy\'s own failure is not SERVICE_UNAVAILABLE');
  t.equal(fault(new MeshError('BAD_REQUEST', 'bad arguments')), 'caller', 'the mesh\'s own refusal');
  t.equal(fault(new McpError(ErrorCode.InvalidParams, 'bad arguments')), 'caller', 'the instance refusing the arguments');
  t.equal(fault(new McpError(ErrorCode.InternalError, 'tool blew up')), 'answered', 'an error the instance answered with: it ran');
});
