import type { Rate } from "./options.ts";

/**
 * Where fixed-window counts live. The memory store below serves one process; a store shared
 * by several processes (a database table, Redis INCR + PEXPIRE) implements the same method and
 * is handed to createServer (`rateStore`), with no change to the routes or the limiters.
 */
export interface RateStore {
  /**
   * Counts one hit of `key` in its current window of `rate` (a new window starts when none is
   * live) and returns the window's count, this hit included, and the milliseconds it has left.
   * A store that cannot count a new key answers `count: Infinity` (over every limit).
   */
  hit(key: string, rate: Rate): WindowCount | Promise<WindowCount>;
}

export interface WindowCount {
  count: number;
  ttlMs: number;
}

interface Entry {
  count: number;
  resetAt: number;
  max: number;
}

export interface MemoryRateStoreOptions {
  /** Most keys held at once (default 100,000: about 15 MB of small keys). */
  maxKeys?: number;
  now?: () => number;
  /** Told once each time the table fills with live limited keys and new keys are refused. */
  onFull?: (info: { keys: number; retryAfterMs: number }) => void;
}

/**
 * A bounded in-memory store that never forgets a key over its limit while its window is live,
 * whatever floods it: when the table is full, it drops finished windows first, then keys
 * still under their limit (oldest first), down to 90% so the scan is paid once per many new
 * keys. A key under its limit that is dropped starts again from zero, which gives it nothing
 * a client with a fresh address would not have.
 *
 * When every key is a live limited one, a new key is refused (`count: Infinity`) until the
 * first of those windows ends: failing open would let a flood of addresses unlock everyone,
 * the very thing this store exists to prevent. Reaching that takes `maxKeys` addresses each
 * over its limit within one window.
 */
export class MemoryRateStore implements RateStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #onFull: MemoryRateStoreOptions["onFull"];
  /** While the table is full of live limited keys: when the first of them ends. */
  #fullUntil = 0;

  constructor(options: MemoryRateStoreOptions = {}) {
    this.#maxKeys = Math.max(1, options.maxKeys ?? 100_000);
    this.#now = options.now ?? Date.now;
    this.#onFull = options.onFull;
  }

  get size(): number {
    return this.#entries.size;
  }

  hit(key: string, rate: Rate): WindowCount {
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (entry && entry.resetAt <= now) {
      // A new window: to the back of the eviction order, like a new key.
      this.#entries.delete(key);
      entry = undefined;
    }
    if (!entry) {
      if (this.#entries.size >= this.#maxKeys && !this.#makeRoom(now)) return { count: Infinity, ttlMs: this.#fullUntil - now };
      entry = { count: 0, resetAt: now + rate.windowMs, max: rate.max };
      this.#entries.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, ttlMs: entry.resetAt - now };
  }

  /** Frees room for one key at least; false when every key is a live limited one. */
  #makeRoom(now: number): boolean {
    if (now < this.#fullUntil) return false;
    for (const [key, entry] of this.#entries) if (entry.resetAt <= now) this.#entries.delete(key);
    const target = Math.floor(this.#maxKeys * 0.9);
    if (this.#entries.size > target) {
      for (const [key, entry] of this.#entries) {
        if (this.#entries.size <= target) break;
        if (entry.count <= entry.max) this.#entries.delete(key);
      }
    }
    if (this.#entries.size < this.#maxKeys) return true;
    let first = Infinity;
    for (const entry of this.#entries.values()) first = Math.min(first, entry.resetAt);
    this.#fullUntil = first;
    this.#onFull?.({ keys: this.#entries.size, retryAfterMs: first - now });
    return false;
  }
}
