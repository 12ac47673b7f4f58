import { randomBytes } from 'node:crypto';
import { secretDigest } from '../../src/http/bearer-token.js';

/** How long a dashboard login lasts without use (sliding). */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** Most logins kept at once; the least recently used goes first. */
export const MAX_SESSIONS = 1_000;

/**
 * The dashboard's logins, in the proxy's memory only: a random id per login (the cookie's value,
 * never the token), kept by its digest so a lookup reveals nothing of a stored id. A proxy restart
 * logs everyone out.
 */
export class DashboardSessions {
  // digest (hex) → last use; a Map keeps insertion order, refreshed on use, so the first is the least recent.
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts a login; returns the id to set as the cookie. */
  create(): string {
    const id = randomBytes(32).toString('base64url');
    if (this.seen.size >= MAX_SESSIONS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(keyOf(id), this.now());
    return id;
  }

  /** True for a live login (and marks it used). */
  valid(id: string | undefined): boolean {
    if (!id) return false;
    const key = keyOf(id);
    const last = this.seen.get(key);
    if (last === undefined) return false;
    this.seen.delete(key);
    if (this.now() - last > SESSION_IDLE_MS) return false;
    this.seen.set(key, this.now());
    return true;
  }

  /** Ends a login (logout). */
  revoke(id: string | undefined): void {
    if (id) this.seen.delete(keyOf(id));
  }

  get size(): number {
    return this.seen.size;
  }
}

const keyOf = (id: string) => secretDigest(id).toString('hex');
