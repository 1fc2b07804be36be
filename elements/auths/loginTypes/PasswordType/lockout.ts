/**
 * Failed-login backoff, in memory, per process. A key (a username, a username from one
 * address, an address) gets `free` failures; from then on each failure locks it for
 * `baseMs · 2^(failures − free)`, capped at `maxMs`, so the owner of a locked account can
 * always wait it out. A key's failures are forgotten `forgetMs` after its last one, and
 * `reset` (a successful login) clears it. Attempts while locked are refused without being
 * counted, so a lock is never lengthened by hammering it.
 *
 * At most `maxKeys` keys are kept: the oldest are dropped first (insertion order), which
 * can shorten a lock but never makes one.
 */
export interface BackoffOptions {
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
  maxKeys?: number;
}

interface Entry {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
}

export class Backoff {
  readonly #options: Required<BackoffOptions>;
  readonly #entries = new Map<string, Entry>();

  constructor(options: BackoffOptions) {
    this.#options = { maxKeys: 100_000, ...options };
  }

  /** Milliseconds until `key` may try again; 0 when it is not locked. */
  lockedFor(key: string, now: number): number {
    const entry = this.#live(key, now);
    return entry && entry.lockedUntil > now ? entry.lockedUntil - now : 0;
  }

  fail(key: string, now: number): void {
    const { free, baseMs, maxMs, maxKeys } = this.#options;
    const entry = this.#live(key, now) ?? { failures: 0, lastFailure: now, lockedUntil: 0 };
    entry.failures += 1;
    entry.lastFailure = now;
    if (entry.failures >= free) entry.lockedUntil = now + Math.min(maxMs, baseMs * 2 ** Math.min(30, entry.failures - free));
    this.#entries.delete(key); // re-insert: the map's order is the age of the last failure
    this.#entries.set(key, entry);
    while (this.#entries.size > maxKeys) this.#entries.delete(this.#entries.keys().next().value!);
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && now - entry.lastFailure >= this.#options.forgetMs && entry.lockedUntil <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

const MINUTE = 60_000;

/**
 * The three limits of a password login Type:
 * - a username from one address: 5 free failures, then 30 s doubling to 15 min at most;
 * - a username from all addresses together: 20 free failures, then the same backoff (so many
 *   addresses guessing one account slow down, but its owner waits at most 15 minutes);
 * - an address across usernames: 50 free failures, then 1 min doubling to 15 min at most.
 * Failures are forgotten a day (an address: an hour) after the last one; a successful login
 * clears the username's counters, not the address's.
 */
export class LoginLimits {
  readonly #pair = new Backoff({ free: 5, baseMs: 30_000, maxMs: 15 * MINUTE, forgetMs: 24 * 60 * MINUTE });
  readonly #user = new Backoff({ free: 20, baseMs: 30_000, maxMs: 15 * MINUTE, forgetMs: 24 * 60 * MINUTE });
  readonly #ip = new Backoff({ free: 50, baseMs: MINUTE, maxMs: 15 * MINUTE, forgetMs: 60 * MINUTE });

  /** Milliseconds until this username may try from this address; 0: go ahead. */
  lockedFor(username: string, ip: string, now: number): number {
    return Math.max(this.#pair.lockedFor(`${ip}\n${username}`, now), this.#user.lockedFor(username, now), this.#ip.lockedFor(ip, now));
  }

  fail(username: string, ip: string, now: number): void {
    this.#pair.fail(`${ip}\n${username}`, now);
    this.#user.fail(username, now);
    this.#ip.fail(ip, now);
  }

  succeed(username: string, ip: string): void {
    this.#pair.reset(`${ip}\n${username}`);
    this.#user.reset(username);
  }
}
