// Runs inside a host namespace for a test in the root namespace: one JSON request per stdin line,
// one JSON answer per stdout line. `fetch` requests a URL on the lab's network; `call` calls a tool
// through MeshClient. TLS trust comes from NODE_EXTRA_CA_CERTS in this process's environment.
import { createInterface } from 'node:readline';
import { MeshClient } from '../../src/client/index.js';

interface FetchRequest {
  id: number;
  op: 'fetch';
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

interface CallRequest {
  id: number;
  op: 'call';
  /** MeshClient options, passed through as given (proxy URL(s), token, ca…). */
  client: Record<string, unknown>;
  service: string;
  tool: string;
  args?: Record<string, unknown>;
  timeoutMs?: number;
}

type Request = FetchRequest | CallRequest;

const clients = new Map<string, MeshClient>();

// One MeshClient per distinct options, so a loop of calls keeps its connections (and its failover state).
function clientFor(options: Record<string, unknown>): MeshClient {
  const key = JSON.stringify(options);
  let client = clients.get(key);
  if (!client) {
    client = new MeshClient(options);
    clients.set(key, client);
  }
  return client;
}

async function handle(request: Request): Promise<Record<string, unknown>> {
  if (request.op === 'fetch') {
    const init: RequestInit = { method: request.method ?? 'GET', signal: AbortSignal.timeout(request.timeoutMs ?? 5_000) };
    if (request.headers) init.headers = request.headers;
    if (request.body !== undefined) init.body = request.body;
    const response = await fetch(request.url, init);
    return { status: response.status, body: await response.text() };
  }
  const result = await clientFor(request.client).call(request.service, request.tool, request.args ?? {}, { timeoutMs: request.timeoutMs ?? 10_000 });
  return { result };
}

// Errors travel back with their name, code and message (and the cause's message: fetch hides the socket error there).
function describe(error: unknown): Record<string, unknown> {
  const e = error as { name?: string; code?: string; message?: string; cause?: { message?: string; code?: string } };
  return { name: e.name, code: e.code, message: e.message, cause: e.cause?.code ?? e.cause?.message };
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const request = JSON.parse(line) as Request;
  handle(request).then(
    (answer) => process.stdout.write(`${JSON.stringify({ id: request.id, ok: true, ...answer })}\n`),
    (error: unknown) => process.stdout.write(`${JSON.stringify({ id: request.id, ok: false, error: describe(error) })}\n`),
  );
});
lines.on('close', () => {
  void Promise.all([...clients.values()].map((client) => client.close())).finally(() => process.exit(0));
});
