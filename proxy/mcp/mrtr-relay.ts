import { randomBytes } from 'node:crypto';
import { createRequestStateCodec, inputRequired, ProtocolErrorCode, type InputRequests, type ServerContext } from '@modelcontextprotocol/server';
import type { InputRequired, InputRetry } from '../router/modern-hop.js';
import { rpcError } from './rpc-error.js';

/** The requests whose 2026-07-28 answer may be an InputRequiredResult, and the param that names their target. */
export type InputMethod = 'tools/call' | 'prompts/get' | 'resources/read';

/** What the proxy's own requestState carries: the instance that asked, its own state, and the request it answers (method, name or uri as the client gave it). */
interface RelayedState {
  instance: string;
  state?: string | undefined;
  method: InputMethod;
  target: string;
}

// How an error names the request a state belongs to.
const described = (method: InputMethod, target: string) => `${method} of "${target}"`;

/**
 * MRTR through the proxy, for tools/call, prompts/get and resources/read. An instance's
 * InputRequiredResult goes to the client with a requestState the proxy signs (HMAC, SDK
 * createRequestStateCodec; ten minutes) wrapping the instance's own state and naming the instance,
 * so the client's retry goes back to the instance that asked; a state that was tampered with,
 * expired, or minted for another request (method, tool, prompt or uri) is refused (-32602). The key
 * is this process's own: a retry reaching another proxy process is refused and the client asks again.
 */
export class MrtrRelay {
  private readonly codec = createRequestStateCodec<RelayedState>({ key: randomBytes(32), ttlSeconds: 600 });
  /** The hook for ServerOptions.requestState.verify of the endpoint's Servers (both eras). */
  readonly verify = (state: string, ctx: ServerContext) => this.codec.verify(state, ctx);

  /** The mint for a client-facing requestState (the lean path answers without an SDK Server). */
  async stateFor(method: InputMethod, target: string, asked: InputRequired): Promise<string> {
    return this.codec.mint({ instance: asked.instanceId, ...(asked.requestState !== undefined && { state: asked.requestState }), method, target });
  }

  /** The InputRequiredResult a handler returns for `asked` (on a legacy session the SDK's shim asks the client and calls again). */
  async result(method: InputMethod, target: string, asked: InputRequired) {
    return inputRequired({ inputRequests: (asked.inputRequests ?? {}) as InputRequests, requestState: await this.stateFor(method, target, asked) });
  }

  /** The retry a request carries (its state verified by the SDK before the handler ran), or undefined for a first call. */
  retryOf(ctx: ServerContext, method: InputMethod, target: string): InputRetry | undefined {
    const state = ctx.mcpReq.requestState<RelayedState>();
    if (state === undefined) return undefined;
    if (typeof state !== 'object' || state.method !== method || state.target !== target) {
      const issued = typeof state === 'object' && typeof state.method === 'string' ? ` (it was issued for ${described(state.method, String(state.target))})` : '';
      throw rpcError(ProtocolErrorCode.InvalidParams, `requestState does not belong to this ${described(method, target)}${issued}; send the request again without it`, { code: 'BAD_REQUEST' });
    }
    return { instanceId: state.instance, inputResponses: ctx.mcpReq.inputResponses, ...(state.state !== undefined && { requestState: state.state }) };
  }
}
