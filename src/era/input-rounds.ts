import { randomBytes, randomUUID } from 'node:crypto';
import {
  createRequestStateCodec,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type ClientCapabilities,
  type InputRequest,
  type JSONRPCErrorResponse,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { MeshError, toJsonRpcError } from '../errors.js';
import type { ModernCall } from './modern-call.js';

/** What the client gets for one HTTP round of a modern request. */
export type RoundOutcome = { kind: 'answer'; message: JSONRPCResultResponse | JSONRPCErrorResponse } | { kind: 'input'; inputRequests: Record<string, InputRequest>; requestState: string };

export interface InputRoundsOptions {
  /** HMAC key of `requestState` (>= 32 bytes); default: a random key per process (one sidecar serves every round of its calls). */
  key?: Uint8Array | string;
  /** How long a call waits for the client's retry (default 10 min); then the child's call is cancelled. */
  ttlMs?: number;
  /** Calls waiting for input at once (default 1,000); beyond it a new one is refused. */
  maxHeld?: number;
}

/** The signed part of `requestState`: which held call, and for which request. */
interface StatePayload {
  /** Held call id (single use: a replay finds nothing). */
  h: string;
}

interface Held {
  call: ModernCall;
  method: string;
  name: string | undefined;
  /** inputRequests key → the child's request it stands for. */
  asked: Map<string, JSONRPCRequest>;
  timer: NodeJS.Timeout;
}

const CAPABILITY_OF: Record<string, keyof ClientCapabilities> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * Multi Round-Trip Requests for a legacy child: the child's requests to the client during a modern
 * call become an InputRequiredResult whose `requestState` is signed here; the call stays pending in
 * memory (bounded, with a deadline) until the client's retry carries the `inputResponses`.
 */
export class InputRounds {
  readonly verify: (state: string, ctx: ServerContext) => Promise<StatePayload>;
  private readonly codec;
  private readonly held = new Map<string, Held>();
  private readonly ttlMs: number;
  private readonly maxHeld: number;

  constructor(options: InputRoundsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 600_000;
    this.maxHeld = options.maxHeld ?? 1_000;
    this.codec = createRequestStateCodec<StatePayload>({ key: options.key ?? randomBytes(32), ttlSeconds: Math.ceil(this.ttlMs / 1000) });
    this.verify = (state, ctx) => this.codec.verify(state, ctx);
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * Waits for the call's next step: its answer, or a round of input for the client. What no
   * 2026-07-28 client can answer is refused to the child. Of the rest, what needs a capability the
   * client did not declare is refused to the child too, and the others go to the client; when none
   * is left, the child cannot get anywhere with this client: its call is cancelled and the client
   * gets -32021 naming the capabilities.
   */
  async settle(call: ModernCall, capabilities: ClientCapabilities | undefined): Promise<RoundOutcome> {
    for (;;) {
      const step = await call.next();
      if (step.kind === 'answer') return step;
      // Asked while it was being cancelled: nobody will use the answers; its answer comes next.
      if (call.done) continue;
      const relayable = step.requests.filter((request) => this.relayable(call, request));
      const declared = relayable.filter((request) => capabilities?.[CAPABILITY_OF[request.method]!] !== undefined);
      if (declared.length === 0 && relayable.length > 0) return this.missingCapability(call, relayable);
      for (const request of relayable) {
        if (!declared.includes(request))
          call.answerChild(
            toJsonRpcError(request.id, new MeshError('BAD_REQUEST', `the client did not declare the ${CAPABILITY_OF[request.method]} capability, so ${request.method} cannot reach it`)),
          );
      }
      if (declared.length > 0) return this.hold(call, declared);
    }
  }

  /**
   * The retry of a held call: checks that `state` is live and belongs to this request, hands the
   * client's answers to the child, and returns the call with what is still unanswered.
   */
  resume(state: StatePayload, method: string, name: string | undefined, responses: Record<string, unknown> | undefined): { call: ModernCall; unanswered: JSONRPCRequest[] } {
    const held = this.held.get(state.h);
    if (!held) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        'requestState names no call waiting for input: it was used already (a replay), its call ended or expired, or the server restarted; send the request again without it',
      );
    }
    if (held.method !== method || held.name !== name) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `requestState belongs to ${held.method}${held.name === undefined ? '' : ` "${held.name}"`}, not to this ${method}${name === undefined ? '' : ` "${name}"`}`,
      );
    }
    this.release(state.h, held);
    held.call.extendDeadline();
    const unanswered: JSONRPCRequest[] = [];
    for (const [key, request] of held.asked) {
      const response = responses?.[key];
      if (typeof response !== 'object' || response === null || Array.isArray(response)) unanswered.push(request);
      else held.call.answerChild({ jsonrpc: '2.0', id: request.id, result: response as JSONRPCResultResponse['result'] });
    }
    return { call: held.call, unanswered };
  }

  /** Parks the call and mints the state its client must echo. */
  async hold(call: ModernCall, asked: JSONRPCRequest[]): Promise<RoundOutcome> {
    if (this.held.size >= this.maxHeld) {
      call.cancel(`too many calls are waiting for input (${this.maxHeld})`);
      const error = new MeshError('SERVICE_UNAVAILABLE', `cannot ask the client for input: ${this.maxHeld} calls are already waiting for input here`);
      return { kind: 'answer', message: toJsonRpcError(call.request.id, error) };
    }
    const id = randomUUID();
    const inputRequests: Record<string, InputRequest> = {};
    const keys = new Map<string, JSONRPCRequest>();
    asked.forEach((request, index) => {
      const key = `input-${index + 1}`;
      keys.set(key, request);
      inputRequests[key] = { method: request.method, params: request.params ?? {} } as InputRequest;
    });
    const params = call.request.params;
    // The held call ends at this TTL, not at the bridge's deadline (a person may be answering).
    call.extendDeadline(this.ttlMs + 1_000);
    const timer = setTimeout(() => this.expire(id), this.ttlMs);
    timer.unref();
    this.held.set(id, { call, method: call.request.method, name: nameOf(params), asked: keys, timer });
    return { kind: 'input', inputRequests, requestState: await this.codec.mint({ h: id }) };
  }

  // The call needs what the client cannot give: -32021 to the client, the child's call cancelled.
  private missingCapability(call: ModernCall, asked: JSONRPCRequest[]): RoundOutcome {
    const missing: Record<string, object> = {};
    for (const request of asked) missing[CAPABILITY_OF[request.method]!] = {};
    const error = new MissingRequiredClientCapabilityError(
      { requiredCapabilities: missing },
      `${call.request.method}${nameSuffix(call.request.params)} needs the client capabilities ${Object.keys(missing).join(', ')}, which this request did not declare in io.modelcontextprotocol/clientCapabilities`,
    );
    call.cancel(error.message);
    return { kind: 'answer', message: { jsonrpc: '2.0', id: call.request.id, error: { code: error.code, message: error.message, data: error.data } } };
  }

  /** Every held call is cancelled (the endpoint closes). */
  closeAll(): void {
    for (const [id, held] of this.held) {
      this.release(id, held);
      held.call.cancel('the server is stopping');
    }
  }

  // What MRTR cannot carry (anything but sampling, elicitation, roots) is refused to the child.
  private relayable(call: ModernCall, request: JSONRPCRequest): boolean {
    if (CAPABILITY_OF[request.method] !== undefined) return true;
    const why = `${request.method} cannot be relayed to a 2026-07-28 client (only sampling, elicitation and roots can)`;
    call.answerChild(toJsonRpcError(request.id, new MeshError('BAD_REQUEST', why)));
    return false;
  }

  private expire(id: string): void {
    const held = this.held.get(id);
    if (!held) return;
    this.release(id, held);
    held.call.cancel(`the client did not retry with its input within ${Math.round(this.ttlMs / 1000)} s`);
  }

  private release(id: string, held: Held): void {
    clearTimeout(held.timer);
    this.held.delete(id);
  }
}

function nameSuffix(params: Record<string, unknown> | undefined): string {
  const name = nameOf(params);
  return name === undefined ? '' : ` "${name}"`;
}

/** The `name` (tools/call, prompts/get) or `uri` (resources/read) a retry must repeat. */
export function nameOf(params: Record<string, unknown> | undefined): string | undefined {
  const name = params?.name ?? params?.uri;
  return typeof name === 'string' ? name : undefined;
}
