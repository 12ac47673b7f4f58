import { Pool } from 'undici';
import { CallToolResultSchema, GetPromptResultSchema, ReadResourceResultSchema, ResultSchema } from '@modelcontextprotocol/core';
import {
  Client,
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  LOG_LEVEL_META_KEY,
  SdkErrorCode,
  SdkHttpError,
  StreamableHTTPClientTransport,
  type CallToolResult,
  type ClientCapabilities,
  type GetPromptResult,
  type JSONRPCMessage,
  type LoggingLevel,
  type LoggingMessageNotification,
  type ReadResourceResult,
  type RequestOptions,
  type ServerCapabilities,
} from '@modelcontextprotocol/client';
import type { z } from 'zod';
import { MeshError, RPC_CONNECTION_CLOSED, rpcCodeOf } from '../../src/errors.js';
import { CallCancel } from './call-cancel.js';
import { DEFAULT_MAX_RESPONSE_BYTES, isConnectFailure, NotSentError, postJsonRpc, postJsonRpcAnswer, SessionLostError, type SessionTarget, type WireSizes } from './json-post.js';
import { upstreamFetch } from './sdk-fetch.js';
import { certificateProblem } from '../../src/http/tls-trust.js';
import type { EraVerdicts } from './era-verdicts.js';
import { ModernListen } from './modern-listen.js';
import { MODERN_REVISION } from '../../src/era/revision.js';
import { completeResult, modernRequest, withoutInstanceIdentity, type InputRetry } from './modern-hop.js';

/** What changed on an instance: one of its lists, or its session (a new session may serve other lists). */
export type UpstreamChange = 'tools' | 'resources' | 'prompts' | 'session';

type Meta = Record<string, unknown> | undefined;

/** How an upstream's SDK client is set up beyond the pooled default (a relay session's client declares what its client declared). */
export interface UpstreamSetup {
  /**
   * Client capabilities sent in initialize. Set for a client session's own upstream (see
   * ClientUpstreams): every request of such an upstream goes through the SDK client, whose
   * handlers answer the instance's sampling/elicitation/roots requests.
   */
  capabilities?: ClientCapabilities;
  /** Called with each new SDK client before it connects (to add request and notification handlers). */
  configure?: (client: Client) => void;
  /** Largest answer read from the instance, on either path (`--max-response-bytes`; default 32 MiB). */
  maxResponseBytes?: number | undefined;
  /** The proxy's mesh token, sent as `Authorization: Bearer` on every request to the instance. */
  token?: string | undefined;
  /** CAs an https instance is verified against (`--ca` plus the system store); default the system store. */
  ca?: string[] | undefined;
  /** A remote server's own headers (its token): sent on every request instead of the mesh token, never logged. */
  headers?: Record<string, string> | undefined;
  /**
   * Where the era of each instance is cached. Set: the upstream finds out whether the instance
   * serves 2026-07-28 (one server/discover probe, then the cached verdict) and speaks it
   * statelessly there; unset, or a legacy instance: an MCP session as before.
   */
  eras?: EraVerdicts;
}

/** How long closing may wait for the instance to confirm a DELETE of the session. */
const TERMINATE_MS = 2_000;

/**
 * Per-request options: `onprogress` for a relayed request (the SDK client path), and what cancels
 * it: a `signal`, or on the lean path a `cancel` (cheaper). A request without `onprogress` on the
 * pooled session takes the lean JSON path.
 */
export type UpstreamRequestOptions = Pick<RequestOptions, 'onprogress' | 'resetTimeoutOnProgress' | 'signal'> & {
  cancel?: CallCancel;
  /** The client's capabilities, sent in a 2026-07-28 request's envelope (an instance asks only what the client can answer). */
  clientCapabilities?: ClientCapabilities;
  /** The log level a 2026-07-28 request asked for (sent in its envelope), and where the instance's log lines for it go. */
  logLevel?: LoggingLevel;
  /** Mcp-Param-* headers of a tools/call (SEP-2243), sent on the stateless hop to a 2026-07-28 instance. */
  paramHeaders?: Record<string, string>;
  onLog?: (params: LoggingMessageNotification['params']) => void;
  /** An MRTR retry: the client's inputResponses and the instance's own requestState go with the request (stateless path). */
  retry?: Pick<InputRetry, 'inputResponses' | 'requestState'>;
  /** Gets the bytes of the instance's answer, when the request went the lean way (postJsonRpc). */
  sizes?: WireSizes;
};

/**
 * One long-lived MCP session to one instance, opened on first use and reused for every request
 * (no initialize per call). A failed connect or a lost session is retried on the next request.
 * The instance's list_changed notifications (and a new session) are reported to `onChange`.
 *
 * The SDK client opens the session and receives the instance's notifications on its GET stream.
 * Plain requests are plain JSON POSTs on that session over keep-alive sockets (`json-post.ts`),
 * which costs the proxy a fraction of the SDK transport's per-request work. Requests that need
 * something relayed while they run (progress, cancellation, the instance's own requests to the
 * client) go through the SDK client, which owns those parts of the protocol.
 */
export class Upstream {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private sessions = 0;
  /** close() was called: a connect still in flight ends its session instead of keeping it. */
  private closed = false;
  private nextId = 0;
  /** Keep-alive sockets of the lean hop (postJsonRpc). */
  private readonly pool: Pool;
  private readonly endpoint: URL;
  /** A client session's own upstream: every request goes through the SDK client (see UpstreamSetup). */
  private readonly relayed: boolean;
  private readonly authorization: string | undefined;
  inflight = 0;
  /** retire() was called: the last request in flight closes the session (`terminate`: and DELETEs it). */
  private retiring: { terminate: boolean } | undefined;
  /** The instance serves 2026-07-28: requests are stateless (no session to lose or re-open). */
  private modern = false;
  private modernTarget: SessionTarget | undefined;
  private listening: ModernListen | undefined;

  constructor(
    readonly url: string,
    private readonly clientName: string,
    private readonly onChange: (change: UpstreamChange) => void = () => undefined,
    private readonly setup: UpstreamSetup = {},
  ) {
    this.endpoint = new URL(url);
    // No timeouts of undici's own (300 s by default): each request's deadline (up to an hour) governs, in postJsonRpc.
    this.pool = new Pool(this.endpoint.origin, { connections: 256, headersTimeout: 0, bodyTimeout: 0, ...(setup.ca && { connect: { ca: setup.ca } }) });
    this.relayed = setup.capabilities !== undefined;
    this.authorization = setup.headers === undefined && setup.token ? `Bearer ${setup.token}` : undefined;
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.closed) return Promise.reject(new SdkError(SdkErrorCode.ConnectionClosed, `the session to ${this.url} was closed`));
    this.connecting ??= (async () => {
      const eras = this.setup.eras;
      const client = new Client({ name: this.clientName, version: '1.0.0' }, { capabilities: this.setup.capabilities ?? {}, ...(eras && { versionNegotiation: { mode: 'auto' as const } }) });
      client.onclose = () => {
        if (this.client === client) this.client = undefined;
      };
      client.setNotificationHandler('notifications/tools/list_changed', () => this.onChange('tools'));
      client.setNotificationHandler('notifications/resources/list_changed', () => this.onChange('resources'));
      client.setNotificationHandler('notifications/prompts/list_changed', () => this.onChange('prompts'));
      this.setup.configure?.(client);
      try {
        const headers = this.setup.headers ?? (this.authorization === undefined ? undefined : { authorization: this.authorization });
        const requestInit = headers === undefined ? undefined : { headers };
        const prior = eras?.prior(this.url);
        const transport = new StreamableHTTPClientTransport(new URL(this.url), {
          fetch: upstreamFetch(this.setup.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, this.setup.ca),
          ...(requestInit && { requestInit }),
        });
        await client.connect(transport, prior && { prior }).catch((error: unknown) => {
          // A probe that could not connect fails as any connect does: the era was never in question.
          throw error instanceof SdkError && error.code === SdkErrorCode.EraNegotiationFailed && isConnectFailure(error.cause) ? error.cause : error;
        });
        if (eras && !prior) eras.remember(this.url, client);
        this.modern = client.getProtocolEra() === 'modern';
        // The pooled upstream hears list changes (and watched resources) on a listen stream; a client session's own upstream needs none.
        if (this.modern && !this.relayed) {
          this.listening ??= new ModernListen(() => this.onChange('session'));
          this.listening.start(client);
        }
        if (this.closed) {
          await endSession(client, true);
          throw new SdkError(SdkErrorCode.ConnectionClosed, `the session to ${this.url} was closed`);
        }
        this.client = client;
        // A renewed session (the instance restarted) may serve other lists; the first one is news to no one.
        if (this.sessions++ > 0) this.onChange('session');
        return client;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  // A request whose session could not be opened was never sent: another replica may take it.
  private async session(): Promise<Client> {
    try {
      return await this.connect();
    } catch (error) {
      throw error instanceof NotSentError ? error : new NotSentError(connectMessage(error), error);
    }
  }

  /** The instance's capabilities from its initialize answer (connects if needed). */
  async capabilities(): Promise<ServerCapabilities> {
    return (await this.connect()).getServerCapabilities() ?? {};
  }

  /**
   * Sends one request on the session; resolves with the instance's result, rejects on a protocol
   * error, a timeout or a transport failure (after which the next request reconnects). A session
   * the instance no longer knows (it restarted) is reopened and the request sent once more.
   * With `options.onprogress` (or on a client session's own upstream) it goes through the SDK client.
   */
  async request<S extends z.ZodType>(method: string, params: Record<string, unknown>, schema: S | undefined, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<z.output<S>> {
    this.inflight++;
    const retry = options?.retry;
    // An MRTR retry goes stateless (the SDK client would start a flow of its own).
    const viaSdk = (this.relayed || options?.onprogress !== undefined) && !(retry && this.modern);
    const body = { ...params, ...(meta && { _meta: meta }), ...(retry && { inputResponses: retry.inputResponses, ...(retry.requestState !== undefined && { requestState: retry.requestState }) }) };
    // The SDK client adds the envelope but no log level: a modern instance logs for a request only when it names one
    // (asked once connected: the era is known only then).
    const logged = () => (this.modern && options?.logLevel ? { ...body, _meta: { ...meta, [LOG_LEVEL_META_KEY]: options.logLevel } } : body);
    // One follower of the client's signal for the request (a session-lost retry included), let go of when it settles.
    const followed = !viaSdk && !options?.cancel && options?.signal ? CallCancel.following(options.signal) : undefined;
    const cancel = options?.cancel ?? followed?.cancel;
    const send = viaSdk
      ? (client: Client) => client.request({ method, params: logged() }, schema ?? ResultSchema, { ...options, timeout: deadlineMs })
      : (client: Client) => this.post(client, method, body, deadlineMs, cancel, options);
    try {
      let result: unknown;
      try {
        result = await sendUnlessRefused(send, await this.session());
      } catch (error) {
        if (!isSessionLost(error)) throw error;
        this.reset();
        result = await sendUnlessRefused(send, await this.session());
      }
      // The SDK client validated its result already (and consumed resultType); the instance's identity stays with the instance.
      if (viaSdk && this.modern) result = withoutInstanceIdentity(result);
      return (schema && !viaSdk ? checked(schema, method, result) : result) as z.output<S>;
    } catch (error) {
      // A dead socket or a session lost twice: the next request reconnects (an answer past the size limit leaves the session as it is).
      const code = rpcCodeOf(error);
      const broken = (code === undefined && !(error instanceof MeshError)) || code === RPC_CONNECTION_CLOSED;
      // A modern verdict that no longer holds (the instance went back to legacy, or is gone): probe again on the next connect.
      if (this.modern && (broken || code === ProtocolErrorCode.UnsupportedProtocolVersion)) this.setup.eras?.forget(this.url);
      if (broken || (this.modern && code === ProtocolErrorCode.UnsupportedProtocolVersion)) this.reset();
      throw error;
    } finally {
      this.inflight--;
      followed?.stop();
      if (this.retiring && this.inflight === 0) this.close(this.retiring.terminate).catch(() => undefined);
    }
  }

  private post(client: Client, method: string, params: Record<string, unknown>, deadlineMs: number, cancel?: CallCancel, options?: UpstreamRequestOptions): Promise<unknown> {
    if (this.modern) return this.postModern(client, method, params, deadlineMs, cancel, options);
    const transport = client.transport as StreamableHTTPClientTransport | undefined;
    if (!transport?.sessionId) throw new NotSentError(`no session with ${this.url}`);
    const target: SessionTarget = {
      url: this.endpoint,
      sessionId: transport.sessionId,
      protocolVersion: transport.protocolVersion,
      dispatcher: this.pool,
      maxResponseBytes: this.setup.maxResponseBytes,
      authorization: this.authorization,
      headers: this.setup.headers,
    };
    return postJsonRpc(target, `p${++this.nextId}`, method, params, deadlineMs, (message) => this.unasked(transport, target, message), cancel, undefined, options?.sizes);
  }

  // A stateless 2026-07-28 request on a keep-alive socket: no session, so an instance restart loses nothing.
  private async postModern(client: Client, method: string, params: Record<string, unknown>, deadlineMs: number, cancel?: CallCancel, options?: UpstreamRequestOptions): Promise<unknown> {
    if (method === 'resources/subscribe' || method === 'resources/unsubscribe') {
      // 2026-07-28 has no such methods: the listen stream's filter names the watched resources.
      if (!this.listening) throw new NotSentError(`no listen stream to ${this.url}`);
      await this.listening.watch(client, String(params.uri), method === 'resources/subscribe');
      return {};
    }
    const request = modernRequest(method, params, { name: this.clientName, version: '1.0.0' }, options?.clientCapabilities, options?.logLevel);
    if (!request) return client.request({ method, params } as never, ResultSchema, { timeout: deadlineMs });
    this.modernTarget ??= {
      url: this.endpoint,
      protocolVersion: MODERN_REVISION,
      dispatcher: this.pool,
      maxResponseBytes: this.setup.maxResponseBytes,
      authorization: this.authorization,
      headers: this.setup.headers,
    };
    // The request's own stream carries its log lines (when it asked for a level); nothing else is expected on it.
    const onLog = options?.onLog;
    const onOther =
      onLog &&
      ((message: JSONRPCMessage) => {
        if ('method' in message && message.method === 'notifications/message' && !('id' in message)) onLog(message.params as LoggingMessageNotification['params']);
      });
    const headers = options?.paramHeaders ? { ...request.headers, ...options.paramHeaders } : request.headers;
    const result = await postJsonRpc(this.modernTarget, `p${++this.nextId}`, method, request.params, deadlineMs, onOther, cancel, headers, options?.sizes);
    return completeResult(method, result);
  }

  // What the instance sent on a lean request's stream besides the answer: notifications (a resource
  // update, a list change) go to the SDK client's handlers as if they came on its own stream; a
  // request (sampling, roots) is refused: this shared session cannot serve it.
  private unasked(transport: StreamableHTTPClientTransport, target: SessionTarget, message: JSONRPCMessage): void {
    if (!('method' in message)) return;
    if (!('id' in message)) {
      transport.onmessage?.(message);
      return;
    }
    const refusal = { code: ProtocolErrorCode.MethodNotFound, message: `the mesh-proxy's shared session does not serve ${message.method}` };
    postJsonRpcAnswer(target, { jsonrpc: '2.0', id: message.id, error: refusal });
  }

  /**
   * Calls a tool; resolves with the tool's own result (isError included), rejects on protocol/transport failure.
   * The result is passed on as the instance gave it (checked for its content list, not re-validated).
   */
  async callTool(name: string, args: Record<string, unknown>, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<CallToolResult> {
    const result = (await this.request('tools/call', { name, arguments: args }, undefined, deadlineMs, meta, options)) as CallToolResult;
    return Array.isArray(result.content) ? result : checked(CallToolResultSchema, 'tools/call', result);
  }

  readResource(uri: string, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<ReadResourceResult> {
    return this.request('resources/read', { uri }, ReadResourceResultSchema, deadlineMs, meta, options);
  }

  getPrompt(name: string, args: Record<string, string> | undefined, deadlineMs: number, meta?: Meta, options?: UpstreamRequestOptions): Promise<GetPromptResult> {
    return this.request('prompts/get', args ? { name, arguments: args } : { name }, GetPromptResultSchema, deadlineMs, meta, options);
  }

  reset(): void {
    const client = this.client;
    this.client = undefined;
    client?.close().catch(() => undefined);
  }

  /**
   * Closes for good once the requests in flight have settled (an instance that deregistered lets its
   * calls finish); with `terminate`, the session is then DELETEd, never while a call still runs on it.
   */
  retire(terminate = false): void {
    if (this.inflight === 0) {
      this.close(terminate).catch(() => undefined);
      return;
    }
    this.retiring = { terminate };
    this.closed = true; // no new session: its requests in flight keep the one they have
  }

  /** Closes for good; with `terminate`, the session is first DELETEd so the instance frees it now. */
  close(terminate = false): Promise<void> {
    this.closed = true;
    this.listening?.close();
    const client = this.client;
    this.client = undefined;
    const destroyed = this.pool.destroy().catch(() => undefined);
    return Promise.all([destroyed, client ? endSession(client, terminate) : undefined]).then(() => undefined);
  }
}

// The SDK client's fetch names a refused connection only in its cause; the lean path says NotSentError itself.
async function sendUnlessRefused(send: (client: Client) => Promise<unknown>, client: Client): Promise<unknown> {
  try {
    return await send(client);
  } catch (error) {
    throw !(error instanceof NotSentError) && isConnectFailure(error) ? new NotSentError(connectMessage(error), error) : error;
  }
}

// "fetch failed" says little; the cause's code (ECONNREFUSED) says why.
function connectMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const certificate = certificateProblem(error);
  if (certificate) return `${message}: ${certificate}`;
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

// 404 on a session: the instance restarted or expired it (the lean path and the SDK transport say so differently).
function isSessionLost(error: unknown): boolean {
  return error instanceof SessionLostError || (error instanceof SdkHttpError && error.status === 404);
}

// A DELETE that does not come back within TERMINATE_MS is abandoned: closing never hangs on an instance.
async function endSession(client: Client, terminate: boolean): Promise<void> {
  const transport = client.transport as StreamableHTTPClientTransport | undefined;
  if (terminate && transport?.sessionId) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, TERMINATE_MS)));
    await Promise.race([transport.terminateSession().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
  }
  await client.close();
}

// The instance's result in the shape the protocol says, or a protocol error naming what is wrong.
function checked<S extends z.ZodType>(schema: S, method: string, result: unknown): z.output<S> {
  const parsed = schema.safeParse(result);
  if (parsed.success) return parsed.data;
  throw new ProtocolError(ProtocolErrorCode.InternalError, `the instance's ${method} result is malformed: ${parsed.error.message}`);
}
