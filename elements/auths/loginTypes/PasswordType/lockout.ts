import { hashToken } from "jit-runtime/element";
import type { LoginFailureRule, Store } from "../../storage/Store.ts";

/**
 * Failed-login backoff of a password login Type, kept in the store, so every process on the
 * database (each worker of `jit serve --workers N`, each server on one PostgreSQL database)
 * counts the same failures, and a restart forgets no lock.
 *
 * A key (a username, a username from one address, an address) gets `free` failures; the
 * free-th and each later one lock it for `baseMs · 2^(failures − free)`, capped at `maxMs`,
 * so the owner of a locked account can always wait it out. A key's failures are forgotten
 * `forgetMs` after its last one (once its lock has ended), and a successful login clears
 * the username's keys. Attempts while locked are refused without being counted, so a lock is
 * never lengthened by hammering it. The store applies this arithmetic to each key
 * atomically (../../storage/loginFailures.ts); this module holds the rules and the keys.
 */
export type BackoffRule = Omit<LoginFailureRule, "key">;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The three limits:
 * - a username from one address: 5 free failures, then 30 s doubling to 15 min at most;
 * - a username from all addresses together: 20 free failures, then the same backoff (so many
 *   addresses guessing one account slow down, but its owner waits at most 15 minutes);
 * - an address across usernames: 50 free failures, then 1 min doubling to 15 min at most.
 * Failures are forgotten a day (an address: an hour) after the last one; a successful login
 * clears the username's counters, not the address's.
 */
export const LOGIN_RULES = {
  pair: { free: 5, baseMs: 30_000, maxMs: 15 * MINUTE, forgetMs: 24 * HOUR },
  user: { free: 20, baseMs: 30_000, maxMs: 15 * MINUTE, forgetMs: 24 * HOUR },
  address: { free: 50, baseMs: MINUTE, maxMs: 15 * MINUTE, forgetMs: HOUR },
} as const satisfies Record<string, BackoffRule>;

export type LoginKeyKind = keyof typeof LOGIN_RULES;

/**
 * The keys of one attempt, as SHA-256 hex: the store never holds a username or an address
 * in clear, so its table does not tell which usernames fail from where. Within a realm
 * (`password:<appId>`, where usernames are unique), so the app's password instances share
 * them, as they share its usernames.
 */
export function loginKeys(realm: string, username: string, ip: string): Record<LoginKeyKind, string> {
  const key = (...parts: string[]) => hashToken(JSON.stringify(["login-failures", realm, ...parts]));
  return { pair: key("pair", ip, username), user: key("user", username), address: key("address", ip) };
}

/** Each key with its rule, as the store counts a failure. */
export function failureRules(keys: Record<LoginKeyKind, string>): LoginFailureRule[] {
  return (Object.keys(LOGIN_RULES) as LoginKeyKind[]).map((kind) => ({ key: keys[kind], ...LOGIN_RULES[kind] }));
}

/** Retry-After in whole seconds for a lock that runs until `lockedUntil`: rounded up, so a retry never comes early. */
export function retryAfterSeconds(lockedUntil: number, now: number): number {
  return Math.max(1, Math.ceil((lockedUntil - now) / 1000));
}

/** One login attempt's view of the lockout (see beginAttempt). */
export interface LoginAttempt {
  /** Until when this username may not try from this address; 0 or past: go ahead. */
  readonly lockedUntil: number;
  /** Counts the failure on all three keys. */
  fail(now: number): Promise<void>;
  /** Clears the username's keys (not the address's); writes only when they had failures. */
  succeed(): Promise<void>;
}

type LockoutStore = Pick<Store, "loginFailureState" | "recordLoginFailure" | "clearLoginFailures">;

/** Reads the attempt's keys once (no write): whether it is locked, and what a success has to clear. */
export async function beginAttempt(store: LockoutStore, realm: string, username: string, ip: string, now: number): Promise<LoginAttempt> {
  const keys = loginKeys(realm, username, ip);
  const state = await store.loginFailureState([keys.pair, keys.user, keys.address], now);
  const toClear = [keys.pair, keys.user].filter((k) => state.failing.includes(k));
  return {
    lockedUntil: state.lockedUntil,
    fail: async (at) => void (await store.recordLoginFailure(failureRules(keys), at)),
    succeed: async () => {
      if (toClear.length > 0) await store.clearLoginFailures(toClear);
    },
  };
}
