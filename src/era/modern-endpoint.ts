import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler, type InboundModernRoute, type ServerNotifier, type Tool } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import { sdkHandlerListener, type ModernEndpoint } from '../http/front-door.js';
import { silentLogger, type Logger } from '../log.js';
import { publishChildEvents, subscribeChildForListen } from './child-events.js';
import { InputRounds, type InputRoundsOptions } from './input-rounds.js';
import { callHeadersAgree, isLeanCall, serveLean } from './lean-call.js';
import { createMirrorFactory } from './mirror-server.js';
import { passToModernChild } from './native-pass.js';
import { checkParamHeaders } from './param-headers.js';
import { sendJson } from '../http/mcp-post.js';

export interface ModernEndpointOptions {
  bridge: Bridge;
  /** Service name, for error messages. */
  name: string;
  log?: Logger;
  /** What the child speaks (the sidecar's probe); a `modern` child gets 2026-07-28 requests as they came. Default: legacy. */
  childEra?: () => 'modern' | 'legacy' | undefined;
  /** Multi Round-Trip Requests: the requestState key, how long and how many calls may wait for input. */
  inputRounds?: InputRoundsOptions;
  /** The child's current tools, whose `x-mcp-header` arguments a `tools/call` must repeat in Mcp-Param-* headers (none given: nothing checked). */
  tools?: () => readonly Tool[];
}

/**
 * Serves 2026-07-28 clients statelessly in front of the child: a plain `tools/call` takes the lean
 * path (no per-request server), everything else the SDK's `createMcpHandler` over a per-request
 * mirror of the child. A legacy child is translated for (results stamped, its requests to the client
 * held as MRTR rounds); a modern child (`childEra`) gets the requests as they came.
 */
export function createModernEndpoint(options: ModernEndpointOptions): ModernEndpoint & { notify: ServerNotifier; rounds: InputRounds } {
  const log = options.log ?? silentLogger;
  const rounds = new InputRounds(options.inputRounds);
  const handler = createMcpHandler(createMirrorFactory({ bridge: options.bridge, rounds, name: options.name, childEra: options.childEra }), {
    legacy: 'reject',
    onerror: (error) => log.debug(`modern request: ${error.message}`),
  });
  const stopEvents = publishChildEvents(options.bridge, handler.notify);
  const toSdk = sdkHandlerListener(handler);

  return {
    notify: handler.notify,
    rounds,
    serve(req, res, parsed, outcome) {
      if (outcome.kind === 'modern' && outcome.messageKind === 'request') {
        if (paramHeadersRefused(options, req, res, outcome)) return;
        if (isLeanCall(req, outcome)) {
          // A plain call to a modern child goes as it came; a legacy child's answer is stamped for 2026-07-28.
          if (options.childEra?.() === 'modern') return passToModernChild(options.bridge, outcome.message, res);
          return serveLean(options.bridge, rounds, outcome.message, res);
        }
        if (outcome.message.method === 'subscriptions/listen') subscribeChildForListen(options.bridge, outcome.message, res, log);
      }
      toSdk(req, res, parsed);
    },
    async close() {
      stopEvents();
      rounds.closeAll();
      await handler.close();
    },
  };
}

// SEP-2243: a tools/call whose Mcp-Param-* headers do not repeat the arguments its tool marks is
// refused here, ahead of both paths (400, -32020), after the standard headers agree (else the SDK answers).
function paramHeadersRefused(options: ModernEndpointOptions, req: IncomingMessage, res: ServerResponse, route: InboundModernRoute): boolean {
  if (options.tools === undefined || !callHeadersAgree(req, route)) return false;
  const params = route.message.params ?? {};
  const tool = options.tools().find((candidate) => candidate.name === params.name);
  const refusal = tool && checkParamHeaders(tool, params.arguments, req.headers, route.message.id);
  if (refusal === undefined) return false;
  options.log?.debug(`refused tools/call "${tool?.name ?? ''}": ${refusal.error.message}`);
  sendJson(res, 400, refusal);
  return true;
}
