import type { ServerResponse } from 'node:http';
import { ProtocolErrorCode, type JSONRPCRequest } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import { replyOn } from '../http/hot-path.js';

/**
 * A 2026-07-28 request to a child that speaks 2026-07-28 itself: forwarded as it came (its envelope,
 * log level and MRTR fields kept) and answered with the child's own result, InputRequiredResult
 * included, with what the child sends for it first (progress, log lines) on the request's stream.
 * No translation: the child is spoken to natively.
 */
export function passToModernChild(bridge: Bridge, message: JSONRPCRequest, res: ServerResponse): void {
  const reply = replyOn(res);
  const childId = bridge.forward(undefined, message, {
    ...reply,
    // As the SDK answers it: an in-band -32021 (a client capability missing) is a 400, before anything was streamed.
    respond(answer) {
      if ('error' in answer && answer.error.code === ProtocolErrorCode.MissingRequiredClientCapability && !res.headersSent) res.statusCode = 400;
      reply.respond(answer);
    },
  });
  if (childId === undefined) return;
  res.once('close', () => {
    if (!res.writableFinished) bridge.cancel(childId, 'the client closed the request');
  });
}
