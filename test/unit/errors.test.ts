import t from 'tap';
import { ProtocolErrorCode } from '@modelcontextprotocol/client';
import { httpStatusFor, jsonRpcCodeFor, MeshError, RPC_CONNECTION_CLOSED, RPC_REQUEST_TIMEOUT, toJsonRpcError, toMeshError } from '../../src/errors.js';

t.test('MeshError carries code, context and cause', async (t) => {
  const cause = new Error('root');
  const error = new MeshError('SERVICE_NOT_FOUND', 'no service named "fs"', { cause, context: { service: 'fs' } });
  t.equal(error.name, 'MeshError');
  t.equal(error.code, 'SERVICE_NOT_FOUND');
  t.same(error.context, { service: 'fs' });
  t.equal(error.cause, cause);
  t.same(new MeshError('INTERNAL', 'x').context, {});
});

t.test('toJsonRpcError maps mesh codes to JSON-RPC codes and keeps the context in data', async (t) => {
  const timeout = toJsonRpcError(7, new MeshError('CALL_TIMEOUT', 'fs: tool "x" did not answer', { context: { tool: 'x', deadlineMs: 1000 } }));
  t.same(timeout, {
    jsonrpc: '2.0',
    id: 7,
    error: { code: -32001, message: 'fs: tool "x" did not answer', data: { code: 'CALL_TIMEOUT', tool: 'x', deadlineMs: 1000 } },
  });
  t.equal(RPC_REQUEST_TIMEOUT, -32001, 'a deadline is -32001 on the wire (v1 ErrorCode.RequestTimeout)');
  const exited = toJsonRpcError('abc', new MeshError('CHILD_EXITED', 'exited with code 7'));
  t.equal(exited.id, 'abc', 'string ids are kept');
  t.equal(exited.error.code, RPC_CONNECTION_CLOSED);
  t.equal(RPC_CONNECTION_CLOSED, -32000, 'a lost child is -32000 on the wire (v1 ErrorCode.ConnectionClosed)');
  t.equal(toJsonRpcError(1, new MeshError('SERVICE_NOT_FOUND', 'x')).error.code, ProtocolErrorCode.InvalidParams);
  t.equal(toJsonRpcError(1, new MeshError('BAD_REQUEST', 'x')).error.code, ProtocolErrorCode.InvalidRequest);
});

t.test('foreign errors become INTERNAL with their message', async (t) => {
  const plain = toJsonRpcError(3, new TypeError('boom'));
  t.equal(plain.error.code, ProtocolErrorCode.InternalError);
  t.equal(plain.error.message, 'boom');
  t.same(plain.error.data, { code: 'INTERNAL' });
  t.equal(toJsonRpcError(4, 'just a string').error.message, 'just a string');
  const original = new RangeError('r');
  const mesh = toMeshError(original);
  t.equal(mesh.code, 'INTERNAL');
  t.equal(mesh.cause, original);
  const already = new MeshError('FORBIDDEN', 'no');
  t.equal(toMeshError(already), already, 'a MeshError is passed through');
});

t.test('every code has a JSON-RPC code and an HTTP status', async (t) => {
  t.equal(httpStatusFor('PAYLOAD_TOO_LARGE'), 413);
  t.equal(httpStatusFor('FORBIDDEN'), 403);
  t.equal(httpStatusFor('SERVICE_NOT_FOUND'), 404);
  t.equal(httpStatusFor('CALL_TIMEOUT'), 504);
  t.equal(httpStatusFor('INTERNAL'), 500);
  t.equal(httpStatusFor('NO_FREE_PORT'), 500, 'no specific status falls back to 500');
  const codes = ['SERVICE_NOT_FOUND', 'TOOL_NOT_FOUND', 'SERVICE_UNAVAILABLE', 'CALL_TIMEOUT', 'CHILD_EXITED', 'CHILD_START_FAILED',
    'CALL_CANCELLED', 'TOOL_ERROR', 'BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'FORBIDDEN', 'NO_FREE_PORT', 'PORT_IN_USE', 'LOOP_DETECTED',
    'REGISTRY_CORRUPT', 'MANIFEST_INVALID', 'PROXY_UNREACHABLE', 'INTERNAL'] as const;
  for (const code of codes) {
    const rpc = jsonRpcCodeFor(code);
    t.ok(Number.isInteger(rpc) && rpc < 0, `${code} → ${rpc}`);
    t.ok(httpStatusFor(code) >= 400, `${code} → HTTP ${httpStatusFor(code)}`);
  }
});
