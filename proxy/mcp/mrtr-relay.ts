import { randomBytes } from 'node:crypto';
import { createRequestStateCodec, inputRequired, ProtocolErrorCode, type InputRequests, type ServerContext } from '@modelcontextprotocol/server';
import type { InputRequired, InputRetry } from '../router/modern-hop.js';
import { rpcError } from './rpc-error.js';

/** What the proxy's own requestState carries: the instance that asked, its own state, and the tool as the client named it. */
interface RelayedState {
  instance: string;
  state?: string | undefined;
  tool: string;
}

/**
 * MRTR through the proxy. An instance's InputRequiredResult goes to the client with a requestState
 * the proxy signs (HMAC, SDK createRequestStateCodec; ten minutes) wrapping the instance's own state
 * and naming the instance, so the client's retry goes back to the instance that asked; a state that
 * was tampered with, expired, or minted for another tool is refused (-32602). The key is this
 * process's own: a retry reaching another proxy process is refused and the client calls again.
 */
export class MrtrRelay {
  private readonly codec = createRequestStateCodec<RelayedState>({ key: randomBytes(32) });
  /** The hook for ServerOptions.requestState.verify of the endpoint's Servers (both eras). */
  readonly verify = (state: string, ctx: ServerContext) => this.codec.verify(state, ctx);

  /** The mint for a client-facing requestState (the lean path answers without an SDK Server). */
  async stateFor(tool: string, asked: InputRequired): Promise<string> {
    return this.codec.mint({ instance: asked.instanceId, ...(asked.requestState !== undefined && { state: asked.requestState }), tool });
  }

  /** The InputRequiredResult a tools/call handler returns for `asked` (on a legacy session the SDK's shim asks the client). */
  async result(tool: string, asked: InputRequired) {
    return inputRequired({ inputRequests: (asked.inputRequests ?? {}) as InputRequests, requestState: await this.stateFor(tool, asked) });
  }

  /** The retry a request carries (its state verified by the SDK before the handler ran), or undefined for a first call. */
  retryOf(ctx: ServerContext, tool: string): InputRetry | undefined {
    const state = ctx.mcpReq.requestState<RelayedState>();
    if (state === undefined) return undefined;
    if (typeof state !== 'object' || state.tool !== tool) {
      throw rpcError(ProtocolErrorCode.InvalidParams, `requestState was issued for another tool than "${tool}"; call the tool again without it`, { code: 'BAD_REQUEST' });
    }
    return { instanceId: state.instance, inputResponses: ctx.mcpReq.inputResponses, ...(state.state !== undefined && { requestState: state.state }) };
  }
}
