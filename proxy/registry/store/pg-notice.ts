import { z } from 'zod';

/**
 * What a proxy tells the others through NOTIFY: which rows changed and how, never the rows
 * themselves (the receiver reads them). `o` is the sender's origin, so a proxy skips its own.
 */
export const NoticeSchema = z.object({
  o: z.string(),
  /** up: rows inserted or updated (read them); del: rows deleted; beat: heartbeats (last_seen moved). */
  k: z.enum(['up', 'del', 'beat']),
  ids: z.array(z.string()),
  /** beat only: each id's row revision after the beat (an eviction is conditional on it). */
  v: z.array(z.number()).optional(),
  /** del only: why (a LeftReason) and by whom (an operator). */
  r: z.enum(['deregistered', 'expired', 'replaced', 'renamed']).optional(),
  by: z.string().optional(),
});
export type Notice = z.infer<typeof NoticeSchema>;

/** A notice before it is addressed and chunked. */
export type NoticeDraft = Omit<Notice, 'o'>;

// PostgreSQL caps a NOTIFY payload at 8000 bytes; ids are at most 128 characters each.
const MAX_PAYLOAD = 7000;

/**
 * Merges consecutive drafts of one transaction of the same kind and reason (order matters: a
 * delete then an insert of one id is not an insert then a delete), and cuts them into payloads
 * below the NOTIFY limit.
 */
export function noticePayloads(origin: string, drafts: readonly NoticeDraft[]): string[] {
  const merged: Notice[] = [];
  for (const draft of drafts) {
    const last = merged[merged.length - 1];
    if (last && last.k === draft.k && last.r === draft.r && last.by === draft.by && (last.v === undefined) === (draft.v === undefined)) {
      last.ids.push(...draft.ids);
      if (draft.v) last.v!.push(...draft.v);
    } else merged.push({ o: origin, ...draft, ids: [...draft.ids], ...(draft.v ? { v: [...draft.v] } : {}) });
  }
  const payloads: string[] = [];
  for (const notice of merged) {
    const empty = JSON.stringify({ ...notice, ids: [], ...(notice.v ? { v: [] } : {}) }).length;
    let chunk = { ids: [] as string[], v: [] as number[] };
    let size = empty;
    const emit = () => payloads.push(JSON.stringify({ ...notice, ids: chunk.ids, ...(notice.v ? { v: chunk.v } : {}) }));
    notice.ids.forEach((id, i) => {
      const rev = notice.v?.[i];
      const cost = Buffer.byteLength(JSON.stringify(id)) + 1 + (rev === undefined ? 0 : String(rev).length + 1);
      if (chunk.ids.length > 0 && size + cost > MAX_PAYLOAD) {
        emit();
        chunk = { ids: [], v: [] };
        size = empty;
      }
      chunk.ids.push(id);
      if (rev !== undefined) chunk.v.push(rev);
      size += cost;
    });
    if (chunk.ids.length > 0) emit();
  }
  return payloads;
}
