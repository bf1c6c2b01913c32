// Successful verifications, remembered for a short time: bcrypt costs tens of milliseconds per check, and a
// client sends the same Authorization header on every request. Keyed on a SHA-256 of the exact header, so the
// table holds no password; bounded, oldest first out; a new table per configuration generation and user reload.
import { createHash } from 'node:crypto';

export const CACHE_TTL_MS = 60_000;
export const CACHE_MAX_ENTRIES = 1024;

export function headerKey(authorization: string): string {
  return createHash('sha256').update(authorization).digest('base64url');
}

export class VerifiedCache {
  private readonly entries = new Map<string, { user: string; expiresAt: number }>();

  constructor(
    private readonly ttlMs = CACHE_TTL_MS,
    private readonly maxEntries = CACHE_MAX_ENTRIES,
  ) {}

  /** The user this header authenticated less than ttl ago, or undefined. */
  get(key: string, now = Date.now()): string | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.user;
  }

  set(key: string, user: string, now = Date.now()): void {
    this.entries.delete(key);
    // Map keeps insertion order: the first key is the oldest.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { user, expiresAt: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
