import { performance } from 'node:perf_hooks';
import { createParser } from 'eventsource-parser';
import { JoinedEventSchema } from '../../src/contract/events.js';

/** One proxy's GET /v1/events, read from the start: when (performance.now()) each instance's `joined` event arrived here. */
export interface JoinWatch {
  readonly base: string;
  /** Instance id → arrival time of its first `joined` event. */
  readonly joined: ReadonlyMap<string, number>;
  /** Why the stream ended, if it did before close(). */
  readonly broken: string | undefined;
  close(): void;
}

/**
 * Subscribes to `base`/v1/events and resolves once its `hello` event arrived, so no later join is
 * missed. The bench reads every event as it comes; a slow reader would add its own delay.
 */
export async function watchJoins(base: string, timeoutMs = 20_000): Promise<JoinWatch> {
  const abort = new AbortController();
  const joined = new Map<string, number>();
  let broken: string | undefined;
  let hello!: () => void;
  const subscribed = new Promise<void>((resolve) => (hello = resolve));
  const parser = createParser({
    onEvent(event) {
      if (event.event === 'hello') hello();
      if (event.event !== 'joined') return;
      const at = performance.now();
      const { instance } = JoinedEventSchema.parse(JSON.parse(event.data));
      if (!joined.has(instance)) joined.set(instance, at);
    },
  });
  const response = await fetch(`${base}/v1/events`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  if (!response.ok || !response.body) throw new Error(`GET ${base}/v1/events: HTTP ${response.status}`);
  const reading = (async () => {
    for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) parser.feed(chunk);
    broken = 'the proxy ended the stream';
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) broken = error instanceof Error ? error.message : String(error);
  });
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    await Promise.race([subscribed, reading.then(() => Promise.reject(new Error(`GET ${base}/v1/events ended before its hello event: ${broken ?? 'timeout'}`)))]);
  } finally {
    clearTimeout(timer);
  }
  return {
    base,
    joined,
    get broken() {
      return broken;
    },
    close: () => abort.abort(),
  };
}
