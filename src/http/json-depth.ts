/**
 * How deeply a request body's JSON may nest. Deeper bodies are refused at the front door: the
 * proxy and instances re-serialize what they forward, and a body nested 100,000 levels deep makes
 * JSON.stringify overflow the stack (which must never be mistaken for a failing instance).
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// A scan of the text, not of the parsed value: a deep body is refused before it is ever built.
/**
 * The nesting depth of a JSON text, counting `{`/`[` outside strings; stops counting at `limit + 1`.
 * Not a validator: run it beside JSON.parse, which refuses what is not JSON.
 * @example jsonDepth('{"a":[1,{"b":2}]}') // 3
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return deepest;
}

/** The message for a body nested deeper than the limit (undefined when it is within it). */
export function tooDeepMessage(text: string, limit = MAX_JSON_DEPTH): string | undefined {
  return jsonDepth(text, limit) > limit ? `JSON body nested deeper than ${limit} levels (the limit of this server); send a flatter value` : undefined;
}
