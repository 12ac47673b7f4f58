import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

// A node's 1-based line from its source range.
function lineAt(node: Node | null | undefined, lineCounter: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lineCounter.linePos(start).line;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' || typeof key === 'number' ? String(key) : undefined;
}

/**
 * The line a field path points to: the line of its key for map entries, of the item for list
 * entries; for a field that does not exist, the line of its closest existing parent.
 */
export function lineOfPath(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number {
  let node: unknown = doc.contents;
  let line = lineAt(doc.contents, lineCounter) ?? 1;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (pair === undefined) break;
      line = lineAt(pair.key as Node, lineCounter) ?? line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) break;
      line = lineAt(item as Node, lineCounter) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

/** `services.fs.args[1]` from `['services', 'fs', 'args', 1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/**
 * The line of a field in manifest text (its closest existing parent when absent), for problems
 * found after loading, such as a missing cwd folder.
 * @example lineOfField(text, ['services', 'fs', 'cwd']) // 12
 */
export function lineOfField(text: string, path: readonly PropertyKey[]): number {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return lineOfPath(doc, lineCounter, path);
}
