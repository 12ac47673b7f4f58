import { ProtocolError, type Result, type ServerContext } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';

/**
 * One round of a 2026-07-28 request to a child that speaks 2026-07-28 itself, from the SDK's
 * per-request server: the request goes to the child as the client sent it (the envelope, the
 * client's inputResponses and requestState put back where the SDK lifted them from) and the child's
 * own result comes back, InputRequiredResult included; its progress and log lines ride the
 * request's stream. The child keeps its own state and signs its own requestState.
 */
export function forwardToModernChild(bridge: Bridge, request: { method: string; params?: Record<string, unknown> }, ctx: ServerContext): Promise<Result> {
  const { envelope, inputResponses } = ctx.mcpReq;
  const requestState = ctx.mcpReq.requestState<string>();
  const params = {
    ...request.params,
    _meta: { ...(request.params?._meta as Record<string, unknown> | undefined), ...envelope },
    ...(inputResponses !== undefined && { inputResponses }),
    ...(requestState !== undefined && { requestState }),
  };
  return new Promise((resolve, reject) => {
    const childId = bridge.forward(
      undefined,
      { jsonrpc: '2.0', id: ctx.mcpReq.id, method: request.method, params },
      {
        respond: (message) => ('error' in message ? reject(new ProtocolError(message.error.code, message.error.message, message.error.data)) : resolve(message.result)),
        related: (message) => {
          if ('method' in message && !('id' in message)) void ctx.mcpReq.notify(message as never).catch(() => undefined);
        },
      },
    );
    if (childId !== undefined) ctx.mcpReq.signal.addEventListener('abort', () => bridge.cancel(childId, 'the client closed the request'), { once: true });
  });
}
