/** The two file moves of the file-polling pattern, shared by its worker and its app side. */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

/** How often both sides look for their file, as the pattern MM replaces does. */
export const POLL_MS = 100;

/** Write-then-rename in the same folder, so a reader never sees a half-written file. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Reads and removes `file` if it is there; undefined when it is not (yet). */
export function take(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  unlinkSync(file);
  return text;
}
