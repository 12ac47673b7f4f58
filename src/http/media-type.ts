import { MIMEType } from 'node:util';

/** One media range of an `Accept` header: its essence (`type/subtype`, lowercase), its q-value and its place in the header. */
export interface MediaRange {
  essence: string;
  q: number;
  index: number;
}

let lastContentType: string | undefined;
let lastEssence: string | undefined;

/**
 * The media type of a `Content-Type` header, lowercase and without parameters (`text/event-stream`
 * for `Text/Event-Stream; charset=utf-8`); undefined when the header is absent or malformed.
 * @example mediaTypeOf(res.headers['content-type']) === 'text/event-stream'
 */
export function mediaTypeOf(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  // A parse costs ~1 µs and a peer sends the same header on every answer: the last one is kept.
  if (header === lastContentType) return lastEssence;
  let essence: string | undefined;
  try {
    essence = new MIMEType(header).essence;
  } catch {
    essence = undefined;
  }
  lastContentType = header;
  lastEssence = essence;
  return essence;
}

// An Accept header splits on commas outside quoted parameter values.
function splitRanges(header: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) i++;
    else if (c === ',' && !quoted) {
      parts.push(header.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(header.slice(start));
  return parts;
}

/**
 * The media ranges of an `Accept` header (RFC 9110 §12.5.1) in header order; malformed ranges are
 * skipped, a missing or malformed q counts as 1.
 * @example parseAccept('text/event-stream;q=0.5, application/json') // [{ essence: 'text/event-stream', q: 0.5, index: 0 }, { essence: 'application/json', q: 1, index: 1 }]
 */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  const ranges: MediaRange[] = [];
  for (const part of splitRanges(header)) {
    const text = part.trim();
    if (text === '') continue;
    let type: MIMEType;
    try {
      type = new MIMEType(text);
    } catch {
      continue;
    }
    const qText = type.params.get('q');
    const q = qText === null || !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(qText) ? 1 : Number(qText);
    ranges.push({ essence: type.essence, q, index: ranges.length });
  }
  return ranges;
}

let lastAccept: string | undefined;
let lastPrefersJson = false;

/**
 * True when an `Accept` header names both `application/json` and `text/event-stream` (as the
 * Streamable HTTP transport requires of a POST) and ranks JSON first: a higher q, or the same q
 * and listed first. Such a client takes a plain JSON answer. Wildcards do not count as naming
 * either, as the SDK transport would not take them either. The last header's answer is kept:
 * a client sends the same one on every call.
 */
export function prefersJsonOverSse(accept: string | undefined): boolean {
  if (accept === lastAccept) return lastPrefersJson;
  const ranges = parseAccept(accept).filter((range) => range.essence === 'application/json' || range.essence === 'text/event-stream');
  const json = ranges.find((range) => range.essence === 'application/json');
  const sse = ranges.find((range) => range.essence === 'text/event-stream');
  const prefers = json !== undefined && sse !== undefined && json.q > 0 && sse.q > 0 && (json.q > sse.q || (json.q === sse.q && json.index < sse.index));
  lastAccept = accept;
  lastPrefersJson = prefers;
  return prefers;
}
