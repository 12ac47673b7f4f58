import t from 'tap';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { MeshError } from '../../src/errors.js';
import { isInstanceFault } from '../../proxy/router/route-errors.js';

// Only what the instance itself did wrong counts toward marking it unhealthy.
t.test('isInstanceFault: the instance\'s faults count, the caller\'s and the mesh\'s own never do', async (t) => {
  t.ok(isInstanceFault(new McpError(ErrorCode.ConnectionClosed, 'tools/call to 127.0.0.1:1: connect ECONNREFUSED')), 'connection refused or reset');
  t.ok(isInstanceFault(new TypeError('fetch failed')), 'fetch failed');
  t.ok(isInstanceFault(new McpError(ErrorCode.ConnectionClosed, 'child unavailable', { code: 'SERVICE_UNAVAILABLE' })), 'a sidecar saying its child cannot serve');
  t.notOk(isInstanceFault(new RangeError('Maximum call stack size exceeded')), 'a body the proxy could not serialize (the caller\'s)');
  t.notOk(isInstanceFault(new MeshError('BAD_REQUEST', 'bad arguments')), 'the mesh\'s own refusal');
  t.notOk(isInstanceFault(new McpError(ErrorCode.InvalidParams, 'bad arguments')), 'the instance refusing the arguments');
});
