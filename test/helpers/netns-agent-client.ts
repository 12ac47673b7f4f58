import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import type { ResultPromise } from 'execa';

/** What the agent answers: `ok` with the response (fetch) or result (call), else the error it met. */
export interface AgentAnswer {
  ok: boolean;
  status?: number;
  body?: string;
  result?: any;
  error?: { name?: string; code?: string; message?: string; cause?: string };
}

/** The test's end of a netns-agent process: requests go out on its stdin, answers come back by id. */
export class NsAgent {
  private next = 1;
  private readonly waiting = new Map<number, (answer: AgentAnswer) => void>();

  constructor(
    private readonly proc: ResultPromise,
    readonly host: string,
  ) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const answer = JSON.parse(line) as AgentAnswer & { id: number };
      this.waiting.get(answer.id)?.(answer);
      this.waiting.delete(answer.id);
    });
  }

  private send(request: Record<string, unknown>): Promise<AgentAnswer> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.proc.stdin!.write(`${JSON.stringify({ id, ...request })}\n`, (error) => (error ? reject(error) : undefined));
    });
  }

  /** Fetches `url` from inside the agent's namespace; never throws for network errors (ok: false). */
  fetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<AgentAnswer> {
    return this.send({ op: 'fetch', url, ...init });
  }

  /** GETs `url` and parses its JSON body (undefined body when the request failed or was not JSON). */
  async json(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; error?: string }> {
    const answer = await this.fetch(url, { headers });
    if (!answer.ok) return { status: 0, body: undefined, error: `${answer.error?.message} (${answer.error?.cause})` };
    let body: any;
    try {
      body = JSON.parse(answer.body ?? '');
    } catch {
      body = answer.body;
    }
    return { status: answer.status ?? 0, body };
  }

  /** Polls `url` until `accept(status, body)` holds; throws with the last answer after `timeoutMs`. */
  async poll(url: string, accept: (status: number, body: any) => boolean, timeoutMs = 20_000, headers: Record<string, string> = {}): Promise<any> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < end) {
      const answer = await this.json(url, headers);
      last = answer.error ?? { status: answer.status, body: answer.body };
      if (answer.status !== 0 && accept(answer.status, answer.body)) return answer.body;
      await delay(100);
    }
    throw new Error(`timed out polling ${url} from host ${this.host}; last: ${JSON.stringify(last)}`);
  }

  /** Calls `service`/`tool` through a MeshClient built from `client` (its constructor options) inside the namespace. */
  call(client: Record<string, unknown>, service: string, tool: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<AgentAnswer> {
    return this.send({ op: 'call', client, service, tool, args, timeoutMs });
  }
}
