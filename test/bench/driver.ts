/** What every load driver offers the measurements: one initialized MCP session, one call at a time or many. */
export interface Driver {
  /** Milliseconds the MCP initialize handshake took (initialize request + initialized notification). */
  readonly initializeMs: number;
  /** HTTP drivers: 'json' or 'sse', how the server sent its last tools/call answer. */
  readonly answerType?: string | undefined;
  /** One tools/call; resolves when the matching answer arrived, rejects on a JSON-RPC or tool error. */
  call(): Promise<void>;
  close(): Promise<void>;
}

/** The tools/call the bench repeats. */
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export const CLIENT_INFO = { name: 'mm-bench', version: '1.0.0' };

/** Throws a precise error for a JSON-RPC answer that is not a successful tool result. */
export function checkAnswer(message: unknown, where: string): void {
  const m = message as { error?: { code?: number; message?: string }; result?: { isError?: boolean; content?: unknown } } | null;
  if (m === null || typeof m !== 'object') throw new Error(`${where}: answer is not a JSON-RPC object`);
  if (m.error) throw new Error(`${where}: JSON-RPC error ${m.error.code}: ${m.error.message}`);
  if (!m.result) throw new Error(`${where}: answer has no result`);
  if (m.result.isError) throw new Error(`${where}: tool error ${JSON.stringify(m.result.content).slice(0, 300)}`);
}
