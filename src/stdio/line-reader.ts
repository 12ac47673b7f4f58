/** Default cap of one stdout line of a child (one JSON-RPC message): 32 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** A line that outgrew the cap: reported once when it crosses it, then discarded up to its newline. */
export interface OversizedLine {
  /** Bytes seen so far (at the crossing) or the whole line's size (at its end). */
  bytes: number;
  /** The JSON-RPC id found near the start of the line, when one is there. */
  id: number | string | undefined;
  /** False when the line crossed the cap; true once its newline arrived (its full size is known). */
  ended: boolean;
}

const PEEK_BYTES = 256;
const NEWLINE = 0x0a;

// The id of a message whose body is too big to parse: senders put `"id"` first (Python's json, JSON.stringify of SDK messages).
function peekId(head: string): number | string | undefined {
  const match = /"id"\s*:\s*(?:(-?\d+)|"((?:[^"\\]|\\.){0,100})")/.exec(head);
  if (!match) return undefined;
  return match[1] !== undefined ? Number(match[1]) : match[2];
}

/**
 * Splits a byte stream into lines of at most `maxBytes`, holding chunks until a newline (one copy
 * per line, not one per chunk). A longer line never grows memory past the cap: it is dropped as it
 * arrives and reported through `onOversized`, so junk or a huge answer never kills the reader.
 */
export class LineReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private discarding: { bytes: number; id: number | string | undefined } | undefined;

  constructor(
    readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: (line: OversizedLine) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.take(chunk.subarray(start, end));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  // Keeps a piece of the current line, or switches to discarding when the line outgrows the cap.
  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.discarding) {
      this.discarding.bytes += piece.length;
      return;
    }
    if (this.size + piece.length <= this.maxBytes) {
      this.chunks.push(piece);
      this.size += piece.length;
      return;
    }
    const head = Buffer.concat([...this.chunks, piece.subarray(0, PEEK_BYTES)])
      .subarray(0, PEEK_BYTES)
      .toString('utf8');
    this.discarding = { bytes: this.size + piece.length, id: peekId(head) };
    this.chunks = [];
    this.size = 0;
    this.onOversized({ ...this.discarding, ended: false });
  }

  private endLine(): void {
    if (this.discarding) {
      const done = this.discarding;
      this.discarding = undefined;
      this.onOversized({ ...done, ended: true });
      return;
    }
    const line = (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size)).toString('utf8');
    this.chunks = [];
    this.size = 0;
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (trimmed.length > 0) this.onLine(trimmed);
  }
}
