import type { FetchLike, RequestId } from '@modelcontextprotocol/client';
import { toJsonRpcError } from '../../src/errors.js';
import { DRAINING_HEADER } from '../../src/http/drain.js';
import { mediaTypeOf } from '../../src/http/media-type.js';
import { trustedFetch } from '../../src/http/trusted-fetch.js';
import { answerTooLarge, drainingRefusal, isDrainingRefusal } from './json-post.js';

/**
 * The fetch of an upstream session's SDK client (the path of relayed requests), keeping to what the
 * lean path (json-post.ts) does: a draining instance's 503 is a request it never served
 * (NotSentError), and an answer to a POSTed request larger than `maxResponseBytes` (the JSON body,
 * or one SSE event) is not read: its request gets a PAYLOAD_TOO_LARGE error naming the limit instead,
 * so the SDK client settles it at once rather than waiting out its deadline on a cut stream.
 */
export function upstreamFetch(maxResponseBytes: number, ca?: string[]): FetchLike {
  // With --ca, https instances are verified against it (and the system store).
  const send = trustedFetch(ca);
  return async (url, init) => {
    const response = await send(url, init);
    const request = init?.method === 'POST' ? requestOf(init.body) : undefined;
    const what = `${request?.method ?? init?.method ?? 'GET'} to ${new URL(url).host}`;
    if (isDrainingRefusal(response.status, response.headers.has(DRAINING_HEADER))) {
      await response.body?.cancel().catch(() => undefined);
      throw drainingRefusal(what);
    }
    const id = request?.id;
    if (id === undefined || !response.ok || !response.body) return response;
    const refusal = () => JSON.stringify(toJsonRpcError(id, answerTooLarge(what, maxResponseBytes)));
    const sse = mediaTypeOf(response.headers.get('content-type')) === 'text/event-stream';
    const body = sse ? capEvents(response.body, maxResponseBytes, refusal) : capBody(response.body, maxResponseBytes, refusal);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

// The one JSON-RPC request a POST carries (a notification, a batch or an answer has no id to fail).
function requestOf(body: RequestInit['body']): { id: RequestId | undefined; method: string } | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const message = JSON.parse(body) as { id?: unknown; method?: unknown };
    if (typeof message.method !== 'string') return undefined;
    return { id: typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined, method: message.method };
  } catch {
    return undefined;
  }
}

// A JSON body past the limit becomes the refusal (the rest is not read).
function capBody(body: ReadableStream<Uint8Array>, limit: number, refusal: () => string): ReadableStream<Uint8Array> {
  let size = 0;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  return new ReadableStream({
    async start(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel().catch(() => undefined);
          controller.enqueue(new TextEncoder().encode(refusal()));
          return controller.close();
        }
        chunks.push(value);
      }
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

// An SSE event past the limit ends the stream: a blank line closes the cut event (the SDK drops it as
// unparsable), then the refusal event answers the request.
function capEvents(body: ReadableStream<Uint8Array>, limit: number, refusal: () => string): ReadableStream<Uint8Array> {
  let pending = 0;
  let last = 0;
  const reader = body.getReader();
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      for (let index = 0; index < value.length; index++) {
        const byte = value[index]!;
        // "\n\n" (or "\r\n\r\n": the \r bytes count, the check is on \n) ends an event.
        pending = byte === 0x0a && last === 0x0a ? 0 : pending + 1;
        if (byte !== 0x0d) last = byte;
        if (pending > limit) {
          await reader.cancel().catch(() => undefined);
          controller.enqueue(value.subarray(0, index)); // the events before the cut one still count
          controller.enqueue(new TextEncoder().encode(`\n\ndata: ${refusal()}\n\n`));
          return controller.close();
        }
      }
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
