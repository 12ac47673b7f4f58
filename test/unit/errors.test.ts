import t from 'tap';
import { ProtocolErrorCode } from '@modelcontextprotocol/client';
import { ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import {
  fromJsonRpcError,
  httpStatusFor,
  isMeshErrorCode,
  jsonRpcCodeFor,
  MESH_ERROR_CODES,
  MeshError,
  RPC_CONNECTION_CLOSED,
  RPC_REQUEST_TIMEOUT,
  rpcCodeOf,
  toHttpError,
  toHttpJsonRpcError,
  toJsonRpcError,
  toMeshError,
  type MeshErrorCode,
} from '../../src/errors.js';

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
  t.equal(httpStatusFor('NO_FREE_PORT'), 500, 'no specific status: 500');
  const before = [
    'SERVICE_NOT_FOUND',
    'TOOL_NOT_FOUND',
    'SERVICE_UNAVAILABLE',
    'CALL_TIMEOUT',
    'CHILD_EXITED',
    'CHILD_START_FAILED',
    'CALL_CANCELLED',
    'TOOL_ERROR',
    'BAD_REQUEST',
    'PAYLOAD_TOO_LARGE',
    'FORBIDDEN',
    'NO_FREE_PORT',
    'PORT_IN_USE',
    'LOOP_DETECTED',
    'REGISTRY_CORRUPT',
    'MANIFEST_INVALID',
    'PROXY_UNREACHABLE',
    'INTERNAL',
  ] as const;
  for (const code of before) t.ok(MESH_ERROR_CODES.includes(code), `${code} is still a code`);
  for (const code of MESH_ERROR_CODES) {
    const rpc = jsonRpcCodeFor(code);
    t.ok(Number.isInteger(rpc) && rpc < 0, `${code} → ${rpc}`);
    const status = httpStatusFor(code);
    t.ok(Number.isInteger(status) && status >= 400 && status < 600, `${code} → HTTP ${status}`);
    t.ok(isMeshErrorCode(code));
  }
});

t.test('the codes once used outside the union keep the wire numbers they were answered with', async (t) => {
  const expected: [MeshErrorCode, number, number][] = [
    ['NOT_FOUND', ProtocolErrorCode.InvalidRequest, 404],
    ['INVALID_PARAMS', ProtocolErrorCode.InvalidParams, 400],
    ['INSTANCE_NOT_FOUND', ProtocolErrorCode.InvalidParams, 404],
    ['RESOURCE_NOT_FOUND', ProtocolErrorCode.InvalidParams, 404],
    ['PROMPT_NOT_FOUND', ProtocolErrorCode.InvalidParams, 404],
    ['SESSION_NOT_FOUND', -32001, 404],
    ['UNAUTHORIZED', -32001, 401],
    ['CONFLICT', ProtocolErrorCode.InvalidParams, 409],
  ];
  for (const [code, rpc, status] of expected) {
    t.equal(jsonRpcCodeFor(code), rpc, `${code} → ${rpc}`);
    t.equal(httpStatusFor(code), status, `${code} → HTTP ${status}`);
  }
});

t.test('a string read off the wire is a code only when it is in the union', async (t) => {
  t.notOk(isMeshErrorCode('NOPE'));
  t.notOk(isMeshErrorCode('toString'), 'no inherited property passes');
  t.notOk(isMeshErrorCode(404));
  const foreign = 'NOPE' as MeshErrorCode;
  t.equal(jsonRpcCodeFor(foreign), ProtocolErrorCode.InternalError, 'a foreign code cast into the union still maps');
  t.equal(httpStatusFor(foreign), 500);
});

t.test('toHttpError: the status for the code, a body naming the code, the message and the context', async (t) => {
  const error = new MeshError('SERVICE_NOT_FOUND', 'unknown service "nope"; known services: fs', { context: { service: 'nope' } });
  t.same(toHttpError(error), { status: 404, body: { error: { code: 'SERVICE_NOT_FOUND', message: 'unknown service "nope"; known services: fs', service: 'nope' } } });
  t.same(toHttpError(new Error('boom')), { status: 500, body: { error: { code: 'INTERNAL', message: 'boom' } } }, 'a foreign error is INTERNAL');
  const sneaky = new MeshError('FORBIDDEN', 'no', { context: { code: 'INTERNAL', message: 'yes', host: 'evil' } });
  t.same(toHttpError(sneaky).body, { error: { code: 'FORBIDDEN', message: 'no', host: 'evil' } }, 'the context cannot rename or reword the error');
  t.same(toJsonRpcError(1, sneaky).error, { code: ProtocolErrorCode.InvalidRequest, message: 'no', data: { code: 'FORBIDDEN', host: 'evil' } });
  for (const code of MESH_ERROR_CODES) {
    const { status, body } = toHttpError(new MeshError(code, `a ${code} failure`));
    t.equal(status, httpStatusFor(code));
    t.same(body, { error: { code, message: `a ${code} failure` } }, `${code}: the body names the code and the message`);
  }
});

t.test('toHttpJsonRpcError: the same error as JSON-RPC with id null, and the HTTP status', async (t) => {
  const { status, body } = toHttpJsonRpcError(new MeshError('UNAUTHORIZED', 'Unauthorized: the bearer token is wrong'));
  t.equal(status, 401);
  t.same(body, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Unauthorized: the bearer token is wrong', data: { code: 'UNAUTHORIZED' } } });
});

t.test('a TOOL_ERROR keeps the JSON-RPC code the instance answered with, except a lost connection', async (t) => {
  const refused = new MeshError('TOOL_ERROR', 'fs.read_text: bad path', { context: { rpcCode: ProtocolErrorCode.InvalidParams } });
  t.equal(toJsonRpcError(1, refused).error.code, ProtocolErrorCode.InvalidParams);
  t.same(toJsonRpcError(1, refused).error.data, { code: 'TOOL_ERROR', rpcCode: ProtocolErrorCode.InvalidParams });
  const closed = new MeshError('TOOL_ERROR', 'x', { context: { rpcCode: RPC_CONNECTION_CLOSED } });
  t.equal(toJsonRpcError(1, closed).error.code, ProtocolErrorCode.InternalError, "-32000 is the hop's own code, never passed on");
  const other = new MeshError('SERVICE_NOT_FOUND', 'x', { context: { rpcCode: -32099 } });
  t.equal(toJsonRpcError(1, other).error.code, ProtocolErrorCode.InvalidParams, 'only a TOOL_ERROR passes a code on');
  t.equal(toHttpError(refused).status, 400, "over HTTP, an instance's refusal of the arguments is the caller's error");
  t.equal(toHttpError(new MeshError('TOOL_ERROR', 'x', { context: { rpcCode: ProtocolErrorCode.MethodNotFound } })).status, 404);
  t.equal(toHttpError(new MeshError('TOOL_ERROR', 'x', { context: { rpcCode: ProtocolErrorCode.InternalError } })).status, 500, 'its own failure stays a 500');
});

t.test('rpcCodeOf: the wire number of a failed SDK request', async (t) => {
  t.equal(rpcCodeOf(new ProtocolError(ProtocolErrorCode.InvalidParams, 'x')), ProtocolErrorCode.InvalidParams);
  t.equal(rpcCodeOf(new SdkError(SdkErrorCode.RequestTimeout, 'timed out')), RPC_REQUEST_TIMEOUT);
  t.equal(rpcCodeOf(new SdkError(SdkErrorCode.ConnectionClosed, 'closed')), RPC_CONNECTION_CLOSED);
  t.equal(rpcCodeOf(new SdkError(SdkErrorCode.NotConnected, 'not connected')), undefined);
  t.equal(rpcCodeOf(new Error('x')), undefined);
});

t.test("fromJsonRpcError reads back what toJsonRpcError wrote; a code that is not MM's becomes INTERNAL", async (t) => {
  const back = fromJsonRpcError(toJsonRpcError(7, new MeshError('CALL_TIMEOUT', 'too slow')));
  t.equal(back.code, 'CALL_TIMEOUT');
  t.equal(back.message, 'too slow');
  t.equal(back.context.rpcCode, -32001);
  const foreign = fromJsonRpcError({ jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'x', data: { code: 'NOT_A_MESH_CODE' } } });
  t.equal(foreign.code, 'INTERNAL', 'a peer cannot make up a mesh code');
});
