const MAGIC = 'SQLite format 3\u0000';

// sql.js happily opens a truncated file and only fails on the first query that touches a missing
// page, so a torn file is caught here first, from the header's own page count.
/**
 * Checks the SQLite file header against the file's length.
 * @returns a reason when the bytes cannot be a whole SQLite database, undefined when they can
 * @example sqliteHeaderProblem(await readFile(file)) // 'truncated: 3 of 4 pages present'
 */
export function sqliteHeaderProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'empty file';
  if (bytes.length < 100) return `too short for a SQLite file (${bytes.length} bytes)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = Buffer.from(bytes.subarray(0, 16)).toString('latin1');
  if (magic !== MAGIC) return 'not a SQLite file (bad header)';
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return `bad page size ${rawPageSize}`;
  if (bytes.length % pageSize !== 0) return `truncated: ${bytes.length} bytes is not a whole number of ${pageSize}-byte pages`;
  const changeCounter = view.getUint32(24);
  const pages = view.getUint32(28);
  const validFor = view.getUint32(92);
  if (pages > 0 && validFor === changeCounter && bytes.length < pages * pageSize) {
    return `truncated: ${bytes.length / pageSize} of ${pages} pages present`;
  }
  return undefined;
}
