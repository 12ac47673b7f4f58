/** Byte length of a value once serialized, so size caps match what travels and what is stored. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

export const KiB = 1024;
