import { getRequestListener } from '@hono/node-server';
import { createMcpHandler, type ServerNotifier } from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import type { ModernEndpoint } from '../http/front-door.js';
import { silentLogger, type Logger } from '../log.js';
import { publishChildEvents, subscribeChildForListen } from './child-events.js';
import { InputRounds, type InputRoundsOptions } from './input-rounds.js';
import { isLeanCall, serveLean } from './lean-call.js';
import { createMirrorFactory } from './mirror-server.js';
import { passToModernChild } from './native-pass.js';

export interface ModernEndpointOptions {
  bridge: Bridge;
  /** Service name, for error messages. */
  name: string;
  log?: Logger;
  /** What the child speaks (the sidecar's probe); a `modern` child gets 2026-07-28 requests as they came. Default: legacy. */
  childEra?: () => 'modern' | 'legacy' | undefined;
  /** Multi Round-Trip Requests: the requestState key, how long and how many calls may wait for input. */
  inputRounds?: InputRoundsOptions;
}

/** The front door already read the body: it rides on the request to the SDK handler. */
type ParsedIncoming = { parsedBody?: unknown };

/**
 * Serves 2026-07-28 clients statelessly in front of a legacy child: a plain `tools/call` takes the
 * lean path (no per-request server), everything else the SDK's `createMcpHandler` over a
 * per-request mirror of the child. Both share the bridge and the held calls of MRTR.
 */
export function createModernEndpoint(options: ModernEndpointOptions): ModernEndpoint & { notify: ServerNotifier; rounds: InputRounds } {
  const log = options.log ?? silentLogger;
  const rounds = new InputRounds(options.inputRounds);
  const handler = createMcpHandler(createMirrorFactory({ bridge: options.bridge, rounds, name: options.name, childEra: options.childEra }), {
    legacy: 'reject',
    onerror: (error) => log.debug(`modern request: ${error.message}`),
  });
  const stopEvents = publishChildEvents(options.bridge, handler.notify);
  const listener = getRequestListener((request, env) => handler.fetch(request, { parsedBody: (env.incoming as ParsedIncoming).parsedBody }));

  return {
    notify: handler.notify,
    rounds,
    serve(req, res, parsed, outcome) {
      if (outcome.kind === 'modern' && outcome.messageKind === 'request') {
        if (isLeanCall(req, outcome)) {
          // A plain call to a modern child goes as it came; a legacy child's answer is stamped for 2026-07-28.
          if (options.childEra?.() === 'modern') return passToModernChild(options.bridge, outcome.message, res);
          return serveLean(options.bridge, rounds, outcome.message, res);
        }
        if (outcome.message.method === 'subscriptions/listen') subscribeChildForListen(options.bridge, outcome.message, res, log);
      }
      Object.assign(req, { parsedBody: parsed });
      void listener(req, res);
    },
    async close() {
      stopEvents();
      rounds.closeAll();
      await handler.close();
    },
  };
}
