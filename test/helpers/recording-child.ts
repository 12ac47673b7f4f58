import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/server';

/** A bridge's child in memory: what the bridge writes to it is recorded, what the child says is injected. */
export class RecordingChild {
  readonly sent: JSONRPCMessage[] = [];
  onmessage?: (message: JSONRPCMessage) => void;
  async start() {}
  async close() {}
  async send(message: JSONRPCMessage) {
    this.sent.push(structuredClone(message));
  }
  /** The child says something to the bridge. */
  say(message: JSONRPCMessage) {
    this.onmessage?.(message);
  }
  requests(method?: string): JSONRPCRequest[] {
    return this.sent.filter((m): m is JSONRPCRequest => 'method' in m && 'id' in m && (!method || m.method === method));
  }
  notifications(method: string) {
    return this.sent.filter((m) => 'method' in m && !('id' in m) && m.method === method);
  }
}
