import type { Server, CompleteRequest, CompleteResult, ServerContext } from '@modelcontextprotocol/server';
import type { Router } from '../router/router.js';
import type { Subscriber } from '../router/subscriptions.js';
import type { Catalog } from './catalog.js';
import { declaresServerRequests, RelaySession } from './relay-session.js';
import { toMeshUri } from './resource-uris.js';
import { meshUriOrThrow, toRpcError, unknownPrompt } from './rpc-error.js';

/** What the endpoint keeps per client session. */
export interface SessionState {
  server: Server;
  id: () => string | undefined;
  /** The client's capabilities were looked at (they are known once initialize was answered). */
  checked: boolean;
  /** Set when the session needs its own upstream sessions (declared sampling/elicitation/roots, or set a log level). */
  relay: RelaySession | undefined;
  /** Nothing to relay for this session: the hot path may answer its plain tool calls. */
  lean: boolean;
  /** Receives this session's resource updates (created on its first subscribe). */
  subscriber: Subscriber | undefined;
}

export interface RelayHandlerDeps {
  router: Router;
  catalog: () => Promise<Catalog>;
  /** The calling client's name, as the audit records it (a modern request names it in its own envelope). */
  callerOf: (ctx: ServerContext) => string;
  /** Throws (a MeshError naming the view) when the endpoint does not show this service: a view's subscriptions and completions stay inside it. */
  check?: (service: string, what: string) => void;
}

export function newSessionState(server: Server, id: () => string | undefined): SessionState {
  return { server, id, checked: false, relay: undefined, lean: false, subscriber: undefined };
}

// Client capabilities are fixed at initialize: looked at once, on the first request after it.
/** The session's relay target, if it needs one. */
export function relayTargetOf(state: SessionState): RelaySession | undefined {
  if (!state.checked) {
    const capabilities = state.server.getClientCapabilities();
    if (!capabilities) return state.relay; // initialize has not been answered yet
    state.checked = true;
    if (declaresServerRequests(capabilities)) openRelay(state);
    state.lean = state.relay === undefined;
  }
  return state.relay;
}

// The session's relay target, created on first need with what its client declared.
function openRelay(state: SessionState): RelaySession {
  return (state.relay ??= new RelaySession(state.id() ?? 'session', state.server, state.server.getClientCapabilities()));
}

/** A closing session lets go of its upstream sessions and subscriptions. */
export function releaseSession(state: SessionState, router: Router): void {
  if (state.relay) router.relays.closeTarget(state.relay).catch(() => undefined);
  if (state.subscriber) router.subscriptions.dropSubscriber(state.subscriber);
  state.relay = undefined;
  state.subscriber = undefined;
}

/**
 * The endpoint's handlers for logging/setLevel, roots list_changed, resources/subscribe and
 * unsubscribe on mesh:// uris, and completion/complete on namespaced prompts and mesh:// uris.
 */
export function installRelayHandlers(state: SessionState, deps: RelayHandlerDeps): void {
  const { server } = state;
  const { router } = deps;

  server.setRequestHandler('logging/setLevel', (request) => {
    relayTargetOf(state);
    openRelay(state).level = request.params.level;
    state.lean = false;
    return {};
  });

  server.setNotificationHandler('notifications/roots/list_changed', () => {
    const target = relayTargetOf(state);
    if (target) router.relays.rootsChanged(target);
  });

  server.setRequestHandler('resources/subscribe', async (request) => {
    const target = meshUriOrThrow(request.params.uri);
    state.subscriber ??= {
      updated: (service, uri) => void server.sendResourceUpdated({ uri: toMeshUri(service, uri) }).catch(() => undefined),
    };
    try {
      deps.check?.(target.service, `resource "${request.params.uri}"`);
      await router.subscriptions.subscribe(target.service, target.uri, state.subscriber);
    } catch (error) {
      throw toRpcError(error);
    }
    return {};
  });
  server.setRequestHandler('resources/unsubscribe', async (request) => {
    const target = meshUriOrThrow(request.params.uri);
    if (state.subscriber) await router.subscriptions.unsubscribe(target.service, target.uri, state.subscriber);
    return {};
  });

  installCompletion(server, deps);
}

/** completion/complete on namespaced prompts and mesh:// uris (both eras). */
export function installCompletion(server: Server, deps: RelayHandlerDeps): void {
  server.setRequestHandler('completion/complete', async (request, ctx) => complete(request.params, deps, ctx));
}

// The ref names the prompt or resource as the endpoint lists it; the service gets its own names back.
async function complete(params: CompleteRequest['params'], deps: RelayHandlerDeps, ctx: ServerContext): Promise<CompleteResult> {
  const ref = params.ref;
  let service: string;
  let mapped: CompleteRequest['params']['ref'];
  if (ref.type === 'ref/prompt') {
    const prompt = (await deps.catalog()).promptIndex.resolve(ref.name);
    if (!prompt) throw unknownPrompt(ref.name);
    service = prompt.service;
    mapped = { ...ref, name: prompt.tool };
  } else {
    const target = meshUriOrThrow(ref.uri);
    service = target.service;
    mapped = { ...ref, uri: target.uri };
  }
  try {
    deps.check?.(service, ref.type === 'ref/prompt' ? `prompt "${ref.name}"` : `resource "${ref.uri}"`);
    return await deps.router.complete(service, { ...params, ref: mapped }, { caller: deps.callerOf(ctx), relay: { signal: ctx.mcpReq.signal } });
  } catch (error) {
    throw toRpcError(error);
  }
}
