import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  ProtocolError,
  Server,
  type InitializeResult,
  type ClientCapabilities,
  type JSONRPCNotification,
  type McpServerFactory,
  type ServerCapabilities,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Bridge } from '../bridge/bridge.js';
import { MeshError } from '../errors.js';
import { nameOf, type InputRounds } from './input-rounds.js';
import { ModernCall } from './modern-call.js';
import { forwardToModernChild } from './native-forward.js';

/** The methods forwarded to the child, by the capability that must be declared for them. */
const FORWARDED: Record<string, readonly string[]> = {
  tools: ['tools/list', 'tools/call'],
  resources: ['resources/list', 'resources/templates/list', 'resources/read'],
  prompts: ['prompts/list', 'prompts/get'],
  completions: ['completion/complete'],
};

export interface MirrorOptions {
  bridge: Bridge;
  rounds: InputRounds;
  /** Service name, for the error when no child runs. */
  name: string;
  /** What the child speaks (the sidecar's probe); a `modern` child is spoken to natively. */
  childEra?: (() => 'modern' | 'legacy' | undefined) | undefined;
}

/**
 * The per-request server `createMcpHandler` serves a modern request with: a low-level SDK `Server`
 * with the legacy child's identity and capabilities (from its initialize result), whose handlers
 * forward through the bridge. The SDK does the rest of the 2026-07-28 work (envelope, headers,
 * server/discover, subscriptions/listen, resultType, serverInfo and cache fields, -32022).
 */
export function createMirrorFactory(options: MirrorOptions): McpServerFactory {
  let seen: InitializeResult | undefined;
  let capabilities: ServerCapabilities = {};
  return () => {
    const init = options.bridge.serverInit;
    if (!init) throw new MeshError('SERVICE_UNAVAILABLE', `${options.name}: the server is not running`);
    if (init !== seen) {
      seen = init;
      capabilities = modernCapabilities(init.capabilities);
    }
    // A modern child signs and checks its own requestState; the sidecar's rounds are for a legacy child.
    const native = options.childEra?.() === 'modern';
    const server = new Server(init.serverInfo, {
      capabilities,
      ...(init.instructions === undefined ? {} : { instructions: init.instructions }),
      ...(!native && { requestState: { verify: options.rounds.verify } }),
    });
    const handler = (request: { method: string; params?: Record<string, unknown> }, ctx: ServerContext) =>
      native ? forwardToModernChild(options.bridge, request, ctx) : forward(options, request, ctx);
    for (const [capability, methods] of Object.entries(FORWARDED)) {
      if (capabilities[capability as keyof ServerCapabilities] === undefined) continue;
      for (const method of methods) server.setRequestHandler(method as 'tools/call', handler as never);
    }
    return server;
  };
}

// The child's capabilities as a 2026-07-28 server may state them (tasks left that revision).
function modernCapabilities(capabilities: ServerCapabilities): ServerCapabilities {
  const { tasks: _tasks, ...rest } = capabilities as ServerCapabilities & { tasks?: unknown };
  return rest;
}

/** One round of a modern request: a fresh call to the child, or the retry of a call waiting for input. */
async function forward(options: MirrorOptions, request: { method: string; params?: Record<string, unknown> }, ctx: ServerContext) {
  const { bridge, rounds } = options;
  const state = ctx.mcpReq.requestState<{ h: string }>();
  let call: ModernCall;
  let unanswered: ReturnType<InputRounds['resume']>['unanswered'] = [];
  if (state === undefined) {
    call = new ModernCall(bridge, { jsonrpc: '2.0', id: ctx.mcpReq.id, method: request.method, ...(request.params ? { params: request.params } : {}) }).start();
  } else {
    ({ call, unanswered } = rounds.resume(state, request.method, nameOf(request.params), ctx.mcpReq.inputResponses));
  }
  call.sink = {
    progress: (notification: JSONRPCNotification) => void ctx.mcpReq.notify(notification as never).catch(() => undefined),
    log: ({ params }: JSONRPCNotification) => void ctx.mcpReq.log(params?.level as never, params?.data, typeof params?.logger === 'string' ? params.logger : undefined).catch(() => undefined),
  };
  const cancel = () => call.cancel('the client closed the request');
  ctx.mcpReq.signal.addEventListener('abort', cancel, { once: true });
  try {
    const outcome = unanswered.length > 0 ? await rounds.hold(call, unanswered) : await rounds.settle(call, clientCapabilitiesOf(ctx.mcpReq.envelope));
    if (outcome.kind === 'input') return inputRequired({ inputRequests: outcome.inputRequests, requestState: outcome.requestState });
    const message = outcome.message;
    if ('error' in message) throw new ProtocolError(message.error.code, message.error.message, message.error.data);
    return message.result;
  } finally {
    ctx.mcpReq.signal.removeEventListener('abort', cancel);
    call.sink = {};
  }
}

/** The capabilities a modern request declared in its envelope. */
export function clientCapabilitiesOf(envelope: object | undefined): ClientCapabilities | undefined {
  return (envelope as Record<string, ClientCapabilities | undefined> | undefined)?.[CLIENT_CAPABILITIES_META_KEY];
}
