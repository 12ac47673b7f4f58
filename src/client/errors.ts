import { MeshError, type MeshErrorCode, type MeshErrorOptions } from '../errors.js';
import type { CallToolResult } from './types.js';

/** What a client error was about: the proxy asked, and the service, tool and HTTP status involved. */
export interface ClientErrorContext extends Record<string, unknown> {
  proxy: string;
  service?: string;
  tool?: string;
  /** HTTP status the proxy answered with, when it answered. */
  httpStatus?: number;
}

interface ClientErrorOptions extends MeshErrorOptions {
  context: ClientErrorContext;
}

/** Base of the client's typed errors: a MeshError whose context always names the proxy. */
export class MeshClientError extends MeshError {
  declare readonly context: ClientErrorContext;

  constructor(code: MeshErrorCode, message: string, options: ClientErrorOptions) {
    super(code, message, options);
    this.name = new.target.name;
  }

  get service(): string | undefined {
    return this.context.service;
  }

  get tool(): string | undefined {
    return this.context.tool;
  }

  get httpStatus(): number | undefined {
    return this.context.httpStatus;
  }
}

/**
 * No service of that name is registered.
 * @example try { await mesh.call('nope', 'x', {}) } catch (e) { if (e instanceof ServiceNotFound) console.log(e.service) }
 */
export class ServiceNotFound extends MeshClientError {
  constructor(message: string, options: ClientErrorOptions) {
    super('SERVICE_NOT_FOUND', message, options);
  }
}

/** The service exists but has no tool of that name (the message lists its tools). */
export class ToolNotFound extends MeshClientError {
  constructor(message: string, options: ClientErrorOptions) {
    super('TOOL_NOT_FOUND', message, options);
  }
}

/** The service has no healthy instance (or did not become healthy in time, for `waitFor`). */
export class ServiceUnavailable extends MeshClientError {
  constructor(message: string, options: ClientErrorOptions) {
    super('SERVICE_UNAVAILABLE', message, options);
  }
}

/** The call did not finish within its deadline. */
export class CallTimeout extends MeshClientError {
  constructor(message: string, options: ClientErrorOptions) {
    super('CALL_TIMEOUT', message, options);
  }
}

/** The proxy refused a call because the mesh hop count reached its limit (a call loop). */
export class LoopDetected extends MeshClientError {
  constructor(message: string, options: ClientErrorOptions) {
    super('LOOP_DETECTED', message, options);
  }
}

/** The proxy could not be reached at all (nothing listening, DNS, connection reset). */
export class ProxyUnreachable extends MeshClientError {
  constructor(message: string, options: ClientErrorOptions) {
    super('PROXY_UNREACHABLE', message, options);
  }
}

/**
 * The tool ran and reported a failure (`isError: true`); `content` is the tool's own content.
 * @example catch (e) { if (e instanceof ToolError) console.error(e.content) }
 */
export class ToolError extends MeshClientError {
  readonly content: CallToolResult['content'];
  readonly result: CallToolResult;

  constructor(result: CallToolResult, options: ClientErrorOptions) {
    const text = result.content
      .flatMap((part) => (part.type === 'text' ? [part.text] : []))
      .join('\n')
      .trim();
    const what = options.context.service && options.context.tool ? `${options.context.service}.${options.context.tool}` : 'tool';
    super('TOOL_ERROR', `${what} failed: ${text || '(no text content)'}`, options);
    this.content = result.content;
    this.result = result;
  }
}
